"""Demo cases (`psirt demo`): one case in every workflow state, assigned to different demo handlers, each
opened from a demo report through the same services people use, plus two reports left in the inbox.

The cases are spread over the last months (`DemoCase.received_days_ago`, moved back by
`psirt.demo.history.backdate_case`): one report not acknowledged in time, a fix overdue, a fix and a disclosure
due within days, so the dashboard, the reminders and the metrics have something to show.

Idempotent: a case whose title exists is not created again. Needs the demo catalog and accounts (earlier
steps of `psirt demo`); skips quietly without them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from psirt.accounts.models import Role, User
from psirt.cases.models import Case
from psirt.cases.services import cases as services
from psirt.cases.services import remediation
from psirt.cases.services.deadlines import remediation_days_for
from psirt.cases.services.message_templates import render
from psirt.cases.services.messages import post_message
from psirt.catalog.models import FirmwareRelease, Product
from psirt.demo.history import STEP_DAYS, backdate_case, days_ago, schedule
from psirt.intake.models import Report
from psirt.intake.services import ReportInput, email_hash, submit_report

Log = Callable[[str], None]

# The workflow path to each state, from "new".
PATHS: dict[str, tuple[str, ...]] = {
    "new": (),
    "acknowledged": ("acknowledged",),
    "triage": ("acknowledged", "triage"),
    "confirmed": ("acknowledged", "triage", "confirmed"),
    "remediation": ("acknowledged", "triage", "confirmed", "remediation"),
    "awaiting_disclosure": ("acknowledged", "triage", "confirmed", "remediation", "awaiting_disclosure"),
    "published": ("acknowledged", "triage", "confirmed", "remediation", "awaiting_disclosure", "published"),
    "closed": ("acknowledged", "triage", "confirmed", "remediation", "awaiting_disclosure", "published", "closed"),
    "rejected": ("acknowledged", "rejected"),
    "duplicate": ("acknowledged", "triage", "duplicate"),
    "not_vulnerability": ("acknowledged", "triage", "not_vulnerability"),
    "out_of_scope": ("out_of_scope",),
}


@dataclass(frozen=True)
class DemoCase:
    title: str
    product: str
    state: str
    handler: int  # index into the demo handlers
    description: str
    cvss: tuple[str, ...] = ()
    cwe: int | None = None
    references: tuple[str, ...] = ()
    exploitation: str = "none"
    disclosure_in_days: int | None = None
    # When the report came in, in days before now.
    received_days_ago: float = 7
    # For a case being fixed: its remediation deadline in days from now (negative: overdue). The case was
    # confirmed that long before, by the remediation time of its severity.
    remediation_due_in: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)


CASES: tuple[DemoCase, ...] = (
    DemoCase(
        "Stack overflow in RTSP DESCRIBE handling",
        "vt-ipc-x5",
        "new",
        0,
        "Sending an RTSP DESCRIBE with a 4 KB URI crashes the streaming service; EIP is overwritten.",
        received_days_ago=9,  # not acknowledged in time: overdue on the dashboard
    ),
    DemoCase(
        "Hard-coded debug password in telnet service",
        "vt-ipc-d3",
        "acknowledged",
        1,
        "The firmware enables telnet on port 2323 with a hard-coded root password.",
        received_days_ago=4,
    ),
    DemoCase(
        "Reflected XSS in the live-view page",
        "vt-ptz-p9",
        "triage",
        0,
        "The 'channel' parameter of /live.html is reflected without encoding.",
        cvss=("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",),
        cwe=79,
        received_days_ago=16,
    ),
    DemoCase(
        "Unauthenticated firmware downgrade",
        "vt-ipc-x5",
        "confirmed",
        1,
        "The update endpoint accepts older signed images, re-opening fixed vulnerabilities.",
        cvss=("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",),
        cwe=1328,
        references=("CVE-2026-40001",),
        remediation_due_in=6,  # due soon
    ),
    DemoCase(
        "Command injection in NTP server setting",
        "vt-ipc-d3",
        "remediation",
        0,
        "The NTP server field is passed to a shell; `;reboot` reboots the camera.",
        cvss=(
            "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        ),
        cwe=78,
        references=("CVE-2026-40002", "CNVD-2026-40002"),
        exploitation="poc",
        remediation_due_in=-8,  # overdue
        extras={
            "work": "Escape NTP server input; add regression test",
            "mitigation": (
                "Restrict the admin UI to a management VLAN.",
                "将管理界面限制在管理 VLAN 内访问。",
            ),
        },
    ),
    DemoCase(
        "Path traversal in log download",
        "vt-ptz-p9",
        "awaiting_disclosure",
        1,
        "GET /download?file=../../etc/shadow returns the shadow file to any signed-in user.",
        cvss=("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",),
        cwe=22,
        references=("CVE-2026-40003", "CNNVD-202603-4003"),
        disclosure_in_days=5,  # due soon
        received_days_ago=110,
    ),
    DemoCase(
        "Weak session tokens in web UI",
        "vt-ipc-x5",
        "published",
        0,
        "Session cookies are 32-bit values derived from the boot time.",
        cvss=("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N",),
        cwe=330,
        references=("CVE-2026-40004",),
        disclosure_in_days=-20,
        received_days_ago=140,
    ),
    DemoCase(
        "Denial of service via malformed ONVIF request",
        "vt-ipc-d3",
        "closed",
        1,
        "A SOAP body with 100,000 nested elements exhausts memory.",
        cvss=("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",),
        cwe=400,
        disclosure_in_days=-60,
        received_days_ago=175,
    ),
    DemoCase(
        "Default credentials documented in manual",
        "vt-ptz-p9",
        "rejected",
        0,
        "The user manual lists admin/admin as the default sign-in of the camera.",
        received_days_ago=45,
    ),
    DemoCase(
        "RTSP crash with long URI (second report)",
        "vt-ipc-x5",
        "duplicate",
        1,
        "The camera crashes when the RTSP URI is very long.",
        received_days_ago=8,
    ),
    DemoCase(
        "Banner shows firmware version",
        "vt-ipc-d3",
        "not_vulnerability",
        0,
        "The login page shows the firmware version before sign-in.",
        received_days_ago=30,
    ),
    DemoCase(
        "Vulnerability in a third-party router",
        "vt-ptz-p9",
        "out_of_scope",
        1,
        "My home router (another brand) has an open UPnP port.",
        received_days_ago=3,
    ),
)

INBOX_REPORTS = (
    ("vt-ipc-x5", "The RTSP server crashes with an overlong DESCRIBE URI; looks like a stack overflow."),
    ("vt-ptz-p9", "The PTZ preset API accepts negative indexes and writes outside the preset table."),
)

LEAD_SHARES = ("new", "confirmed", "remediation", "awaiting_disclosure")

REASONS = {
    "rejected": "Documented default; the setup wizard forces a change.",
    "duplicate": "Same root cause as the RTSP stack overflow case.",
    "not_vulnerability": "Version disclosure is intended; no impact.",
    "out_of_scope": "Not one of our products.",
    "closed": "",
}


def spread(case: Case, spec: DemoCase) -> dict[str, Any]:
    """When `case` was received and entered each state (see `psirt.demo.history`): a case being fixed was
    confirmed so that its remediation deadline falls `remediation_due_in` days from now; a published or closed
    one was published on its agreed disclosure date."""
    at: dict[str, dt.datetime] = {}
    if spec.remediation_due_in is not None:
        confirmed = days_ago(remediation_days_for(case.severity) - spec.remediation_due_in)
        received = confirmed - dt.timedelta(days=STEP_DAYS["confirmed"], hours=3)
        at["confirmed"] = confirmed
        at["remediation"] = confirmed + dt.timedelta(days=3)
    else:
        received = days_ago(spec.received_days_ago)
    if spec.disclosure_in_days is not None and spec.disclosure_in_days < 0:
        published = days_ago(-spec.disclosure_in_days)
        at["awaiting_disclosure"] = published - dt.timedelta(days=14)
        at["published"] = published
        at["closed"] = published + dt.timedelta(days=10)
    return {"received": received, "times": schedule(received, **at)}


def _people() -> tuple[User | None, list[User]]:
    lead = User.objects.filter(role=Role.LEAD, is_active=True).order_by("pk").first()
    handlers = list(User.objects.filter(role=Role.HANDLER, is_active=True).order_by("email"))
    return lead, handlers


def _report(product: Product, text: str, n: int, lang: str = "en") -> Report:
    data = ReportInput(
        reporter_name=f"Demo Researcher {n}",
        reporter_email=f"researcher{n}@demo.test",
        description=text,
        product=product,
        accepted_guidelines=True,
        credit=f"Demo Researcher {n}",
    )
    return submit_report(data=data, send_acknowledgment=False, language=lang).report


def load_demo_cases(log: Log = print) -> None:
    """Create the demo cases and inbox reports that do not exist yet."""
    lead, handlers = _people()
    if lead is None or not handlers:
        log("cases: skipped (no lead or handler account; load the demo accounts first)")
        return
    titles = set(Case.objects.filter(title__in=[c.title for c in CASES]).values_list("title", flat=True))
    original: Case | None = Case.objects.filter(title=CASES[0].title).first()
    for n, spec in enumerate(CASES, start=1):
        if spec.title in titles:
            continue
        product = Product.objects.filter(slug=spec.product).first()
        if product is None:
            log(f"cases: skipped {spec.title!r} ({spec.product} is not in the catalog)")
            continue
        handler = handlers[spec.handler % len(handlers)]
        report = _report(product, spec.description, n, "zh-hans" if n % 3 == 0 else "en")
        # The lead shares the cases with a deadline coming, so their own dashboard list is not empty.
        people = [handler, lead] if spec.state in LEAD_SHARES else [handler]
        case = services.open_case(report=report, actor=lead, title=spec.title, assignees=people)
        original = original or case
        for vector in spec.cvss:
            services.set_cvss(case=case, vector=vector, actor=handler)
        if spec.cwe:
            services.set_cwe(case=case, cwe=spec.cwe, actor=handler)
        for ref in spec.references:
            services.add_reference(case=case, value=ref, actor=handler)
        if spec.exploitation != "none":
            services.set_exploitation(
                case=case, status=spec.exploitation, aware_at=timezone.now() - dt.timedelta(days=3), actor=handler
            )
        for step in PATHS[spec.state]:
            if step == "acknowledged":
                post_message(case=case, report=report, actor=handler, body=render("acknowledgment", report=report))
            services.transition(
                case=case,
                to_state=step,
                # The original may belong to another handler: a lead sees both.
                actor=lead if step == "duplicate" else handler,
                reason=REASONS.get(step, ""),
                duplicate_of=original if step == "duplicate" and original.pk != case.pk else None,
            )
        if spec.disclosure_in_days is not None:
            services.set_disclosure_date(
                case=case, date=timezone.localdate() + dt.timedelta(days=spec.disclosure_in_days), actor=handler
            )
        releases = list(FirmwareRelease.objects.filter(product=product, variant="").order_by("position"))
        if spec.state in ("remediation", "awaiting_disclosure", "published", "closed") and len(releases) >= 3:
            fixed = releases[-1] if spec.state != "remediation" else None
            remediation.set_affected_range(
                case=case, product=product, introduced=releases[-3], fixed=fixed, actor=handler
            )
        if "work" in spec.extras:
            remediation.add_work_item(
                case=case,
                title=spec.extras["work"],
                owner=handler,
                due_date=timezone.localdate() + dt.timedelta(days=21),
                actor=handler,
            )
        if "mitigation" in spec.extras:
            text_en, text_zh = spec.extras["mitigation"]
            remediation.add_mitigation(case=case, text_en=text_en, text_zh=text_zh, actor=handler)
        post_message(
            case=case, report=report, actor=handler, body="Demo note: reproduced on the lab bench.", internal=True
        )
        case = backdate_case(case, **spread(case, spec))
        log(f"case: {case.key} {case.state} → {handler.email}")
    for i, (slug, text) in enumerate(INBOX_REPORTS, start=100):
        product = Product.objects.filter(slug=slug).first()
        if (
            product is not None
            and not Report.objects.filter(email_hash=email_hash(f"researcher{i}@demo.test")).exists()
        ):
            log(f"inbox report: {_report(product, text, i).tracking_id}")
