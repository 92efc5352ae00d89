"""Municipality settings: where the guidelines differ (see shared/seeds/INDEX.md), the rule is a
setting with a default and the guideline it comes from — never a literal in code."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SettingDefinition:
    key: str
    default: Any
    kind: str  # bool | int | choice | domains (comma-separated mail domains) | json
    label: str  # Norwegian, shown to administrators
    source: str  # which guideline the default comes from
    choices: tuple[tuple[str, str], ...] = ()  # (value, Norwegian label)
    #: allowed range of an int setting (inclusive); stated on the settings page and checked on save
    minimum: int = 0
    maximum: int = 10_000

    def allows(self, value: Any) -> bool:
        """Whether ``value`` is a valid value of this setting (type, range, choices)."""
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "int":
            return (isinstance(value, int) and not isinstance(value, bool)
                    and self.minimum <= value <= self.maximum)
        if self.kind == "choice":
            return value in {v for v, _label in self.choices}
        if self.kind == "domains":
            from webapp.outbox.addresses import normalised_domains
            return normalised_domains(value) == value
        return True


DEFINITIONS: dict[str, SettingDefinition] = {d.key: d for d in [
    SettingDefinition("coordinating_unit_appoints", True, "bool",
                      "Koordinerende enhet mottar ønsker og oppnevner koordinator",
                      "002 (Salangen): henvendelse til koordinerende enhet, som oppnevner koordinator"),
    SettingDefinition("child_coordinator_below_age", 18, "int",
                      "Barnekoordinator foreslås for personer under denne alderen",
                      "002 (Salangen): koordinator/barnekoordinator",
                      minimum=1, maximum=30),
    SettingDefinition("uses_relay_log", False, "bool",
                      "Kommunen bruker stafettlogg (0–18 år): stafettholder kan lede gruppen",
                      "000 (Østre Toten): stafettholder leder når stafettlogg finnes"),
    SettingDefinition("relay_log_max_age", 18, "int",
                      "Stafettlogg brukes til og med denne alderen (år, ikke inkludert)",
                      "000 (Østre Toten), BTI: 0–18 år",
                      minimum=1, maximum=25),
    SettingDefinition("leader_by_age_stage", False, "bool",
                      "Hvem som leder gruppen følger alderstrinn (helsesykepleier, skole, koordinator)",
                      "001: før skolealder helsesykepleier, i grunnskolen skolen, i videregående koordinator"),
    SettingDefinition("own_access_age", 16, "int",
                      "Personen får egen innlogging til sine sider fra denne alderen (år)",
                      "Pasient- og brukerrettighetsloven § 4-3 første ledd bokstav b: samtykkekompetanse "
                      "fra 16 år; § 3-4: informasjon gis også til personen",
                      minimum=0, maximum=18),
    SettingDefinition("guardian_access_consent_age", 16, "int",
                      "Fra denne alderen ser foresatte saken bare når personen samtykker (år)",
                      "Pasient- og brukerrettighetsloven § 3-4 andre ledd og § 4-3: fra 16 år bestemmer "
                      "personen selv hva foresatte får vite, utover det foreldreansvaret krever",
                      minimum=0, maximum=18),
    SettingDefinition("consent_valid_months", 0, "int",
                      "Samtykket gjelder i så mange måneder (0 = til det trekkes tilbake)",
                      "002 (Salangen): samtykket gjelder inntil annen beskjed blir gitt",
                      minimum=0, maximum=120),
    SettingDefinition("notice_days", 14, "int", "Innkalling sendes minst så mange dager før møtet",
                      "002 (Salangen) og 003 (Lund): minimum 14 dager",
                      minimum=1, maximum=90),
    SettingDefinition("meeting_planning_days", 14, "int",
                      "Planleggingen av neste møte starter så mange dager før fristen for innkallingen",
                      "Kommunens valg: 000 (Østre Toten) og 001: saker meldes inn og møtene avtales i god tid; "
                      "001: personens behov og ønsker avklares i forkant av møtet",
                      minimum=0, maximum=90),
    SettingDefinition("meeting_minutes_default", 90, "int", "Standard møtelengde (minutter)",
                      "002 (Salangen): 1,5 timer",
                      minimum=15, maximum=480),
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
                      "Kommunens valg (ikke angitt i retningslinjene)",
                      minimum=1, maximum=60),
    SettingDefinition("reminder_days_before", 2, "int", "Påminnelse om møtet sendes så mange dager før",
                      "Kommunens valg (ikke angitt i retningslinjene)",
                      minimum=0, maximum=30),
    SettingDefinition("measure_reminder_days", 7, "int",
                      "Påminnelse om forfalt tiltak gjentas med så mange dagers mellomrom",
                      "Kommunens valg (ikke angitt i retningslinjene)",
                      minimum=1, maximum=90),
    SettingDefinition("evaluation_interval_months", "12", "choice", "Hvor ofte gruppen evalueres",
                      "002 (Salangen) og 003 (Lund): årlig; 000 (Østre Toten) tillater annethvert år",
                      choices=(("12", "Hvert år"), ("24", "Annethvert år"))),
    SettingDefinition("need_check_yearly", True, "bool",
                      "Spør hvert år om gruppen fortsatt trengs (også mellom evalueringene)",
                      "002 (Salangen): behovet for ansvarsgruppe vurderes årlig"),
    SettingDefinition("transition_review_months", 12, "int",
                      "Gjennomgang av sammensetningen starter så mange måneder før en overgang",
                      "002 (Salangen) og 003 (Lund): sammensetningen revideres ved overganger",
                      minimum=1, maximum=36),
    SettingDefinition("closing_reported_to", "coordinating_unit", "choice",
                      "Avslutning av en gruppe meldes til",
                      "002 (Salangen): koordinerende enhet; 004: systemansvarlig",
                      choices=(("coordinating_unit", "Koordinerende enhet"),
                               ("system_owner", "Systemansvarlig"))),
    SettingDefinition("coordinator_read_months", 12, "int",
                      "Koordinator kan lese en avsluttet sak i så mange måneder",
                      "Kommunens valg (ikke angitt i retningslinjene)",
                      minimum=0, maximum=60),
    SettingDefinition("deviation_followup_days", 14, "int",
                      "Avvik som ikke er lukket i gruppen innen så mange dager, går til systemansvarlig",
                      "004: avvik gruppen ikke kan lukke, meldes systemansvarlig",
                      minimum=1, maximum=180),
    SettingDefinition("meeting_interval_months", 6, "int",
                      "Gruppen bør ha møte minst så ofte (måneder); lenger tid siden siste møte vises som «møte forfalt»",
                      "002 (Salangen): som hovedregel hvert halvår; 000 (Østre Toten): 2–4 møter i året "
                      "(hver 3.–6. måned)",
                      minimum=1, maximum=12),
    SettingDefinition("minutes_sent_by", "coordinator", "choice",
                      "Hvem som sender ut referatet",
                      "002 (Salangen): koordinator sender og arkiverer; 003 (Lund): uten individuell plan "
                      "sender referenten referatet til hele gruppen",
                      choices=(("coordinator", "Koordinator"),
                               ("minute_taker_without_plan",
                                "Referenten når gruppen ikke har individuell plan, ellers koordinator"))),
    SettingDefinition("invitations_by_post", False, "bool",
                      "Innkallingen sendes også som brev (per post) til alle medlemmene",
                      "003 (Lund): innkalling med saksliste sendes per post"),
    SettingDefinition("report_to_system_owner", False, "bool",
                      "Systemansvarlig får melding (registerdata) når en gruppe starter og når status endres",
                      "004: koordinator rapporterer oppstart, status og avslutning til systemansvarlig"),
    SettingDefinition("consent_waiting_days", 30, "int",
                      "Tilsynet viser en gruppe som har ventet på samtykke i mer enn så mange dager",
                      "Kommunens valg (ikke angitt i retningslinjene); 002 (Salangen): skriftlig samtykke "
                      "innhentes før etablering",
                      minimum=1, maximum=365),
    SettingDefinition("supervision_digest_weekday", "0", "choice",
                      "Ukedagen koordinerende enhet og systemansvarlig får ukesoversikten over saker som står fast",
                      "Kommunens valg (ikke angitt i retningslinjene); 004: systemansvarlig har oversikt over "
                      "alle grupper",
                      choices=(("0", "Mandag"), ("1", "Tirsdag"), ("2", "Onsdag"), ("3", "Torsdag"),
                               ("4", "Fredag"), ("5", "Lørdag"), ("6", "Søndag"))),
    SettingDefinition("plan_is_agenda", True, "bool",
                      "Den individuelle planen er sakslisten: planens mål og tiltak som forfaller, foreslås som saker",
                      "001 og 002 (Salangen): ved vedtak på individuell plan bør planen benyttes som saksliste"),
    SettingDefinition("plan_replaces_minutes", False, "bool",
                      "Planen oppdateres i møtet i stedet for referat: den oppdaterte planen godkjennes og sendes ut",
                      "003 (Lund): ved vedtak på individuell plan oppdateres denne; referat er da ikke nødvendig"),
    SettingDefinition("plan_revision_months", 12, "int",
                      "Forslag til revisjonsdato for planen (måneder etter vedtak)",
                      "Kommunens valg; forskrift om habilitering og rehabilitering, individuell plan og "
                      "koordinator § 19: planen skal angi tidsperiode og revideres ved behov",
                      minimum=1, maximum=36),
    SettingDefinition("mail_attachment_domains", "", "domains",
                      "Kommunens egne e-postdomener (kommaseparert): bare hit sendes innhold og vedlegg "
                      "(referat, innkalling med kalenderfil) på e-post",
                      "Normen: helseopplysninger sendes ikke i vanlig e-post ut av virksomheten; "
                      "andre mottakere får bare en lenke"),
]}
