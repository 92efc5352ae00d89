"""Municipality settings: where the guidelines differ (see shared/seeds/INDEX.md), the rule is a
setting with a default and the guideline it comes from — never a literal in code."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class SettingDefinition:
    key: str
    default: Any
    kind: str  # bool | int | choice | domains (comma-separated mail domains) | json
    label: str  # shown to administrators (Norwegian, translated: lazy_gettext)
    source: str  # which guideline the default comes from
    choices: tuple[tuple[str, str], ...] = ()  # (value, label, translated as the label)
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
                      _l("Koordinerende enhet mottar ønsker og oppnevner koordinator"),
                      "002 (Salangen): henvendelse til koordinerende enhet, som oppnevner koordinator"),
    SettingDefinition("child_coordinator_below_age", 18, "int",
                      _l("Barnekoordinator foreslås for personer under denne alderen"),
                      "002 (Salangen): koordinator/barnekoordinator",
                      minimum=1, maximum=30),
    SettingDefinition("uses_relay_log", False, "bool",
                      _l("Kommunen bruker stafettlogg (0–18 år): stafettholder kan lede gruppen"),
                      "000 (Østre Toten): stafettholder leder når stafettlogg finnes"),
    SettingDefinition("relay_log_max_age", 18, "int",
                      _l("Stafettlogg brukes til og med denne alderen (år, ikke inkludert)"),
                      "000 (Østre Toten), BTI: 0–18 år",
                      minimum=1, maximum=25),
    SettingDefinition("leader_by_age_stage", False, "bool",
                      _l("Hvem som leder gruppen følger alderstrinn (helsesykepleier, skole, koordinator)"),
                      "001: før skolealder helsesykepleier, i grunnskolen skolen, i videregående koordinator"),
    SettingDefinition("own_access_age", 16, "int",
                      _l("Personen får egen innlogging til sine sider fra denne alderen (år)"),
                      "Pasient- og brukerrettighetsloven § 4-3 første ledd bokstav b: samtykkekompetanse "
                      "fra 16 år; § 3-4: informasjon gis også til personen",
                      minimum=0, maximum=18),
    SettingDefinition("guardian_access_consent_age", 16, "int",
                      _l("Fra denne alderen ser foresatte saken bare når personen samtykker (år)"),
                      "Pasient- og brukerrettighetsloven § 3-4 andre ledd og § 4-3: fra 16 år bestemmer "
                      "personen selv hva foresatte får vite, utover det foreldreansvaret krever",
                      minimum=0, maximum=18),
    SettingDefinition("consent_valid_months", 0, "int",
                      _l("Samtykket gjelder i så mange måneder (0 = til det trekkes tilbake)"),
                      "002 (Salangen): samtykket gjelder inntil annen beskjed blir gitt",
                      minimum=0, maximum=120),
    SettingDefinition("notice_days", 14, "int", _l("Innkalling sendes minst så mange dager før møtet"),
                      "002 (Salangen) og 003 (Lund): minimum 14 dager",
                      minimum=1, maximum=90),
    SettingDefinition("meeting_planning_days", 14, "int",
                      _l("Planleggingen av neste møte starter så mange dager før fristen for innkallingen"),
                      "Kommunens valg: 000 (Østre Toten) og 001: saker meldes inn og møtene avtales i god tid; "
                      "001: personens behov og ønsker avklares i forkant av møtet",
                      minimum=0, maximum=90),
    SettingDefinition("meeting_minutes_default", 90, "int", _l("Standard møtelengde (minutter)"),
                      "002 (Salangen): 1,5 timer",
                      minimum=15, maximum=480),
    SettingDefinition("coordinator_may_take_minutes", True, "bool",
                      _l("Koordinator kan være referent"),
                      "002 (Salangen); 004 sier at planansvarlig ikke bør være referent"),
    SettingDefinition("minute_taker_rotates", True, "bool",
                      _l("Referentrollen går på omgang (systemet foreslår neste)"),
                      "002 (Salangen) og 004: referent går på rundgang; 003 (Lund): velges per møte"),
    SettingDefinition("minutes_approval", "members", "choice",
                      _l("Hvordan referatet godkjennes"),
                      "000 (Østre Toten): godkjennes i gruppen; 002 (Salangen): koordinator sender ut",
                      choices=(("members", _l("Medlemmene godkjenner innen en frist")),
                               ("next_meeting", _l("Godkjennes i neste møte")))),
    SettingDefinition("minutes_approval_days", 7, "int",
                      _l("Frist for medlemmenes godkjenning av referatet (dager)"),
                      "Kommunens valg (ikke angitt i retningslinjene)",
                      minimum=1, maximum=60),
    SettingDefinition("reminder_days_before", 2, "int", _l("Påminnelse om møtet sendes så mange dager før"),
                      "Kommunens valg (ikke angitt i retningslinjene)",
                      minimum=0, maximum=30),
    SettingDefinition("measure_reminder_days", 7, "int",
                      _l("Påminnelse om forfalt tiltak gjentas med så mange dagers mellomrom"),
                      "Kommunens valg (ikke angitt i retningslinjene)",
                      minimum=1, maximum=90),
    SettingDefinition("evaluation_interval_months", "12", "choice", _l("Hvor ofte gruppen evalueres"),
                      "002 (Salangen) og 003 (Lund): årlig; 000 (Østre Toten) tillater annethvert år",
                      choices=(("12", _l("Hvert år")), ("24", _l("Annethvert år")))),
    SettingDefinition("need_check_yearly", True, "bool",
                      _l("Spør hvert år om gruppen fortsatt trengs (også mellom evalueringene)"),
                      "002 (Salangen): behovet for ansvarsgruppe vurderes årlig"),
    SettingDefinition("transition_review_months", 12, "int",
                      _l("Gjennomgang av sammensetningen starter så mange måneder før en overgang"),
                      "002 (Salangen) og 003 (Lund): sammensetningen revideres ved overganger",
                      minimum=1, maximum=36),
    SettingDefinition("closing_reported_to", "coordinating_unit", "choice",
                      _l("Avslutning av en gruppe meldes til"),
                      "002 (Salangen): koordinerende enhet; 004: systemansvarlig",
                      choices=(("coordinating_unit", _l("Koordinerende enhet")),
                               ("system_owner", _l("Systemansvarlig")))),
    SettingDefinition("coordinator_read_months", 12, "int",
                      _l("Koordinator kan lese en avsluttet sak i så mange måneder"),
                      "Kommunens valg (ikke angitt i retningslinjene)",
                      minimum=0, maximum=60),
    SettingDefinition("deviation_followup_days", 14, "int",
                      _l("Avvik som ikke er lukket i gruppen innen så mange dager, går til systemansvarlig"),
                      "004: avvik gruppen ikke kan lukke, meldes systemansvarlig",
                      minimum=1, maximum=180),
    SettingDefinition("meeting_interval_months", 6, "int",
                      _l("Gruppen bør ha møte minst så ofte (måneder); lenger tid siden siste møte "
                         "vises som «møte forfalt»"),
                      "002 (Salangen): som hovedregel hvert halvår; 000 (Østre Toten): 2–4 møter i året "
                      "(hver 3.–6. måned)",
                      minimum=1, maximum=12),
    SettingDefinition("minutes_sent_by", "coordinator", "choice",
                      _l("Hvem som sender ut referatet"),
                      "002 (Salangen): koordinator sender og arkiverer; 003 (Lund): uten individuell plan "
                      "sender referenten referatet til hele gruppen",
                      choices=(("coordinator", _l("Koordinator")),
                               ("minute_taker_without_plan",
                                _l("Referenten når gruppen ikke har individuell plan, ellers koordinator")))),
    SettingDefinition("invitations_by_post", False, "bool",
                      _l("Innkallingen sendes også som brev (per post) til alle medlemmene"),
                      "003 (Lund): innkalling med saksliste sendes per post"),
    SettingDefinition("report_to_system_owner", False, "bool",
                      _l("Systemansvarlig får melding (registerdata) når en gruppe starter og når status endres"),
                      "004: koordinator rapporterer oppstart, status og avslutning til systemansvarlig"),
    SettingDefinition("consent_waiting_days", 30, "int",
                      _l("Tilsynet viser en gruppe som har ventet på samtykke i mer enn så mange dager"),
                      "Kommunens valg (ikke angitt i retningslinjene); 002 (Salangen): skriftlig samtykke "
                      "innhentes før etablering",
                      minimum=1, maximum=365),
    SettingDefinition("supervision_digest_weekday", "0", "choice",
                      _l("Ukedagen koordinerende enhet og systemansvarlig får ukesoversikten over saker som står fast"),
                      "Kommunens valg (ikke angitt i retningslinjene); 004: systemansvarlig har oversikt over "
                      "alle grupper",
                      choices=(("0", _l("Mandag")), ("1", _l("Tirsdag")), ("2", _l("Onsdag")), ("3", _l("Torsdag")),
                               ("4", _l("Fredag")), ("5", _l("Lørdag")), ("6", _l("Søndag")))),
    SettingDefinition("plan_is_agenda", True, "bool",
                      _l("Den individuelle planen er sakslisten: planens mål og tiltak som forfaller, "
                         "foreslås som saker"),
                      "001 og 002 (Salangen): ved vedtak på individuell plan bør planen benyttes som saksliste"),
    SettingDefinition("plan_replaces_minutes", False, "bool",
                      _l("Planen oppdateres i møtet i stedet for referat: den oppdaterte planen "
                         "godkjennes og sendes ut"),
                      "003 (Lund): ved vedtak på individuell plan oppdateres denne; referat er da ikke nødvendig"),
    SettingDefinition("plan_revision_months", 12, "int",
                      _l("Forslag til revisjonsdato for planen (måneder etter vedtak)"),
                      "Kommunens valg; forskrift om habilitering og rehabilitering, individuell plan og "
                      "koordinator § 19: planen skal angi tidsperiode og revideres ved behov",
                      minimum=1, maximum=36),
    SettingDefinition("mail_attachment_domains", "", "domains",
                      _l("Kommunens egne e-postdomener (kommaseparert): bare hit sendes innhold og vedlegg "
                         "(referat, innkalling med kalenderfil) på e-post"),
                      "Normen: helseopplysninger sendes ikke i vanlig e-post ut av virksomheten; "
                      "andre mottakere får bare en lenke"),
]}
