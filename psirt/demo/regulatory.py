"""Demo regulatory reporting: the obligations `make run` shows at once on /desk/regulatory/.

- a case inside its 24 h window (became actively exploited 5 hours ago, reportability still to decide);
- an overdue 72 h notification (aware 80 hours ago; early warning filed, notification not);
- a filed vulnerability whose final report is due (both early stages filed, fix available 4 days ago);
- a severe incident (a compromised update mirror, early warning filed);
- a MIIT report (filed on the NVDB platform);
- customer organizations with contacts (one in Chinese) running the products of the exploited cases, so the
  direct notice to known customers (Art. 14(8)) names real recipients.

Everything goes through the real services; times are given in the past where the services take them (awareness,
submission), so the clocks read a believable history. The organization's EU Member State for CRA reports and the
product lines' Member States are set when the demo left them empty. Idempotent: nothing is added when the demo's
obligations exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from psirt.accounts.models import Role, User
from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.catalog.models import ProductLine
from psirt.catalog.services import update_product_line
from psirt.notify.models import CustomerOrganization
from psirt.notify.services import import_customers_csv
from psirt.organization.models import OrganizationProfile
from psirt.organization.services import update_organization
from psirt.regulatory import services
from psirt.regulatory.clocks import Stage, Track
from psirt.regulatory.models import Decision, FilingKind, Obligation

Log = Callable[[str], None]

MEMBER_STATES = {"ip-cameras-recorders": "DE,FR,NL,IT,ES,PL", "thermostats-controllers": "DE,AT,NL"}
INCIDENT_TITLE = "Firmware update mirror served a tampered image"

# Demo cases by title (psirt.demo.cases) → what happens to them here.
WITHIN_24H = "Reflected XSS in the live-view page"
OVERDUE_72H = "Unauthenticated firmware downgrade"
FINAL_DUE = "Command injection in NTP server setting"
MIIT_CASE = "Hard-coded debug password in telnet service"

EARLY_WARNING = {
    "summary": "Exploitation observed in the wild against internet-exposed cameras.",
    "product_versions": "see the affected versions",
}


# Customer organizations and their contacts (the .test domain never receives mail). Each runs some of the
# products of the exploited demo cases: the first two the products of every case, the third only the first.
CUSTOMERS = (
    ("Stadtwerke Nordhafen", "Jana Berger", "security@stadtwerke-nordhafen.test", "en"),
    ("Stadtwerke Nordhafen", "Ops desk", "noc@stadtwerke-nordhafen.test", "en"),
    ("Harbourline Logistics", "Sam Okafor", "it-security@harbourline.test", "en"),
    ("华东智慧楼宇有限公司", "王磊", "wanglei@huadong-building.test", "zh-hans"),
)


def load_demo_customers(lead: User, cases: list[Case], log: Log) -> None:
    """Customer organizations running the affected products (idempotent: the import finds them by name)."""
    slugs = list(dict.fromkeys(slug for case in cases for slug in services.affected_slugs(case)))
    if not slugs or CustomerOrganization.objects.exists():
        return
    lines = ["organization,name,email,language,products"]
    for n, (org, name, email, language) in enumerate(CUSTOMERS):
        products = slugs if n != 2 else slugs[:1]
        lines.append(f'"{org}","{name}",{email},{language},"{" ".join(products)}"')
    result = import_customers_csv(data="\n".join(lines).encode(), actor=lead)
    for line, problem in result.errors:
        log(f"regulatory: customer line {line} not imported: {problem}")
    log(f"regulatory: {result.organizations} customer organizations, {result.contacts} contacts")


def _at(hours_ago: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours_ago)


def _exploited(case: Case, lead: User, hours_ago: float) -> Obligation:
    case_services.set_exploitation(case=case, status="active", actor=lead, aware_at=_at(hours_ago))
    services.ensure_exploited_obligations(case=case)
    return Obligation.objects.get(case=case, track=Track.VULNERABILITY)


def _reportable(obligation: Obligation, lead: User, evidence: str) -> Obligation:
    return services.decide(obligation=obligation, actor=lead, reportable=True, evidence=evidence)


def load_demo_regulatory(log: Log = print) -> None:
    lead = User.objects.filter(role=Role.LEAD, is_active=True).order_by("pk").first()
    if lead is None:
        log("regulatory: skipped (no lead account; load the demo accounts first)")
        return
    if Obligation.objects.filter(title=INCIDENT_TITLE).exists():
        return
    if not OrganizationProfile.get().eu_member_state:
        update_organization(actor=lead, eu_member_state="NL", eu_reporting_basis="main_establishment")
    for line in ProductLine.objects.filter(slug__in=MEMBER_STATES, eu_member_states=""):
        update_product_line(actor=lead, line=line, eu_member_states=MEMBER_STATES[line.slug])
    cases = {c.title: c for c in Case.objects.filter(title__in=[WITHIN_24H, OVERDUE_72H, FINAL_DUE, MIIT_CASE])}

    if WITHIN_24H in cases:
        _exploited(cases[WITHIN_24H], lead, hours_ago=5)

    if OVERDUE_72H in cases:
        obligation = _reportable(
            _exploited(cases[OVERDUE_72H], lead, hours_ago=80),
            lead,
            "Partner CERT shared logs of downgrade attacks against two municipal camera networks.",
        )
        services.submit_stage(
            obligation=obligation,
            actor=lead,
            stage=Stage.EARLY_WARNING,
            values=EARLY_WARNING,
            reference="SRP-EW-2026-00311",
            submitted_at=_at(62),
        )

    if FINAL_DUE in cases:
        case = cases[FINAL_DUE]
        obligation = _reportable(
            _exploited(case, lead, hours_ago=12 * 24),
            lead,
            "Honeypot captured the injection payload from a botnet scanning for exposed cameras.",
        )
        services.submit_stage(
            obligation=obligation,
            actor=lead,
            stage=Stage.EARLY_WARNING,
            values=EARLY_WARNING,
            reference="SRP-EW-2026-00207",
            submitted_at=_at(12 * 24 - 20),
        )
        services.submit_stage(
            obligation=obligation,
            actor=lead,
            stage=Stage.NOTIFICATION,
            values={
                "general_information": "Command injection through the NTP server setting of the web interface.",
                "vulnerability_nature": "OS command injection (CWE-78) in the time settings handler.",
                "exploit_nature": "Authenticated request with default credentials, then a shell command.",
            },
            reference="SRP-NO-2026-00207",
            submitted_at=_at(12 * 24 - 60),
        )
        services.set_measure_available(obligation=obligation, actor=lead, at=_at(4 * 24))

    incident = services.open_incident(
        actor=lead,
        title=INCIDENT_TITLE,
        aware_at=_at(30),
        evidence="A mirror of the update server returned an image with a modified signature chain.",
    )
    services.submit_stage(
        obligation=incident,
        actor=lead,
        stage=Stage.EARLY_WARNING,
        values={
            "summary": "One download mirror served a tampered firmware image for about 6 hours.",
            "member_states": "Germany, Netherlands",
            "product_name": "VisionTek IP cameras",
            "product_versions": "all models fetching updates from the mirror",
            "malicious_suspected": "yes",
        },
        reference="SRP-EW-2026-00340",
        submitted_at=_at(10),
    )

    if MIIT_CASE in cases:
        case = cases[MIIT_CASE]
        miit = services.open_miit(actor=lead, case=case, aware_at=_at(36))
        services.submit_stage(
            obligation=miit, actor=lead, stage=Stage.MIIT, reference="NVDB-2026-118830", submitted_at=_at(20)
        )
        services.record_entry(
            obligation=miit,
            actor=lead,
            kind=FilingKind.SUPPLIER_NOTICE,
            note="Told the telnet daemon's upstream maintainer (BusyBox build of our SDK vendor).",
        )
    load_demo_customers(lead, list(cases.values()), log)
    count = Obligation.objects.exclude(decision=Decision.NOT_REPORTABLE).count()
    log(f"regulatory: {count} obligations")
