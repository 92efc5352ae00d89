"""Municipality settings: where the guidelines differ (see shared/seeds/INDEX.md), the rule is a
setting with a default and the guideline it comes from — never a literal in code."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SettingDefinition:
    key: str
    default: Any
    kind: str  # bool | int | choice | json
    label: str  # Norwegian, shown to administrators
    source: str  # which guideline the default comes from
    choices: tuple[tuple[str, str], ...] = ()  # (value, Norwegian label)


DEFINITIONS: dict[str, SettingDefinition] = {d.key: d for d in [
    SettingDefinition("coordinating_unit_appoints", True, "bool",
                      "Koordinerende enhet mottar ønsker og oppnevner koordinator",
                      "002 (Salangen): henvendelse til koordinerende enhet, som oppnevner koordinator"),
    SettingDefinition("child_coordinator_below_age", 18, "int",
                      "Barnekoordinator foreslås for personer under denne alderen",
                      "002 (Salangen): koordinator/barnekoordinator"),
    SettingDefinition("uses_relay_log", False, "bool",
                      "Kommunen bruker stafettlogg (0–18 år): stafettholder kan lede gruppen",
                      "000 (Østre Toten): stafettholder leder når stafettlogg finnes"),
    SettingDefinition("relay_log_max_age", 18, "int",
                      "Stafettlogg brukes til og med denne alderen (år, ikke inkludert)",
                      "000 (Østre Toten), BTI: 0–18 år"),
    SettingDefinition("leader_by_age_stage", False, "bool",
                      "Hvem som leder gruppen følger alderstrinn (helsesykepleier, skole, koordinator)",
                      "001: før skolealder helsesykepleier, i grunnskolen skolen, i videregående koordinator"),
    SettingDefinition("consent_valid_months", 0, "int",
                      "Samtykket gjelder i så mange måneder (0 = til det trekkes tilbake)",
                      "002 (Salangen): samtykket gjelder inntil annen beskjed blir gitt"),
    SettingDefinition("notice_days", 14, "int", "Innkalling sendes minst så mange dager før møtet",
                      "002 (Salangen) og 003 (Lund): minimum 14 dager"),
    SettingDefinition("meeting_planning_days", 14, "int",
                      "Planleggingen av neste møte starter så mange dager før fristen for innkallingen",
                      "Kommunens valg: 000 (Østre Toten) og 001: saker meldes inn og møtene avtales i god tid; "
                      "001: personens behov og ønsker avklares i forkant av møtet"),
    SettingDefinition("meeting_minutes_default", 90, "int", "Standard møtelengde (minutter)",
                      "002 (Salangen): 1,5 timer"),
    SettingDefinition("coordinator_may_take_minutes", True, "bool",
                      "Koordinator kan være referent",
                      "002 (Salangen); 004 sier at planansvarlig ikke bør være referent"),
    SettingDefinition("minute_taker_rotates", True, "bool",
                      "Referentrollen går på omgang (systemet foreslår neste)",
                      "002 (Salangen) og 004: referent går på rundgang; 003 (Lund): velges per møte"),
    SettingDefinition("minutes_approval", "members", "choice",
                      "Hvordan referatet godkjennes",
                      "000 (Østre Toten): godkjennes i gruppen; 002 (Salangen): koordinator sender ut",
                      choices=(("members", "Medlemmene godkjenner innen en frist"),
                               ("next_meeting", "Godkjennes i neste møte"))),
    SettingDefinition("minutes_approval_days", 7, "int",
                      "Frist for medlemmenes godkjenning av referatet (dager)",
                      "Kommunens valg (ikke angitt i retningslinjene)"),
    SettingDefinition("reminder_days_before", 2, "int", "Påminnelse om møtet sendes så mange dager før",
                      "Kommunens valg (ikke angitt i retningslinjene)"),
    SettingDefinition("measure_reminder_days", 7, "int",
                      "Påminnelse om forfalt tiltak gjentas med så mange dagers mellomrom",
                      "Kommunens valg (ikke angitt i retningslinjene)"),
    SettingDefinition("evaluation_interval_months", "12", "choice", "Hvor ofte gruppen evalueres",
                      "002 (Salangen) og 003 (Lund): årlig; 000 (Østre Toten) tillater annethvert år",
                      choices=(("12", "Hvert år"), ("24", "Annethvert år"))),
    SettingDefinition("need_check_yearly", True, "bool",
                      "Spør hvert år om gruppen fortsatt trengs (også mellom evalueringene)",
                      "002 (Salangen): behovet for ansvarsgruppe vurderes årlig"),
    SettingDefinition("transition_review_months", 12, "int",
                      "Gjennomgang av sammensetningen starter så mange måneder før en overgang",
                      "002 (Salangen) og 003 (Lund): sammensetningen revideres ved overganger"),
    SettingDefinition("closing_reported_to", "coordinating_unit", "choice",
                      "Avslutning av en gruppe meldes til",
                      "002 (Salangen): koordinerende enhet; 004: systemansvarlig",
                      choices=(("coordinating_unit", "Koordinerende enhet"),
                               ("system_owner", "Systemansvarlig"))),
    SettingDefinition("coordinator_read_months", 12, "int",
                      "Koordinator kan lese en avsluttet sak i så mange måneder",
                      "Kommunens valg (ikke angitt i retningslinjene)"),
    SettingDefinition("deviation_followup_days", 14, "int",
                      "Avvik som ikke er lukket i gruppen innen så mange dager, går til systemansvarlig",
                      "004: avvik gruppen ikke kan lukke, meldes systemansvarlig"),
]}
