"""Case desk benchmark: desk pages with 10,000 cases, 30,000 reports and 100,000 messages in the database.

Measured in-process through Django's full middleware stack (sessions, auth, 2FA, locale, CSP) with the test
client, signed in as a lead (sees every case) or a handler (sees ~1,000): the desk panel (the desk home's
case dashboard), the case list unfiltered and filtered (state + text search + sort; "mine"), and a case page
(3 reports, ~10 messages, audited view). Reference, same process and run: a trivial view that reads the
signed-in user (session + user lookup) and answers "ok". SQLite first, then PostgreSQL when 127.0.0.1:5432
answers (database `psirt_bench_desk`, created and dropped here).

Target: p95 < 150 ms for every page on both databases. `--quick`: fewer requests (20 instead of 100 per page)
and the same data. The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))  # run as a script: `bench` must be importable

from bench._harness import pg_admin, pg_available, run_django_child, signed_in  # noqa: E402

PG_DB = "psirt_bench_desk"
TARGET_MS = 150.0

CASES = int(os.environ.get("BENCH_CASES", "10000"))
REPORTS_PER_CASE = 3
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "100000"))
HANDLERS = 10


# --------------------------------------------------------------------------------------------- the child


def populate() -> dict[str, Any]:
    """Bulk-load the catalog, people, cases, reports and messages (encrypted fields encrypt on insert)."""
    import datetime as dt
    import secrets
    import uuid

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.utils import timezone

    from psirt.accounts.models import Role, User
    from psirt.cases.models import Assignment, Case, CaseReport, StateChange
    from psirt.cases.services.workflow import CaseState
    from psirt.catalog.models import FirmwareRelease, Product, ProductLine
    from psirt.intake.models import AuthorKind, InboxState, Message, Report, Stage, Via

    line = ProductLine.objects.create(slug="bench-line", name_en="Bench cameras", position=1)
    products = [Product.objects.create(line=line, slug=f"bench-{i}", name=f"Bench Camera {i}") for i in range(20)]
    FirmwareRelease.objects.bulk_create(
        FirmwareRelease(product=p, version=f"1.{j}", position=j + 1) for p in products for j in range(10)
    )
    lead = User.objects.create_user("lead@bench.test", "bench-pass-Quokka-42", role=Role.LEAD, name="Lead")
    handlers = [
        User.objects.create_user(f"h{i}@bench.test", "bench-pass-Quokka-42", role=Role.HANDLER, name=f"H{i}")
        for i in range(HANDLERS)
    ]
    for user in (lead, handlers[0]):
        TOTP.activate(user, generate_totp_secret())

    now = timezone.now()
    year = timezone.localtime(now).year
    states = list(CaseState.values)
    words = ["rtsp", "overflow", "injection", "traversal", "xss", "csrf", "telnet", "onvif", "upnp", "firmware"]
    text = "The web interface of the camera accepts a crafted request and {w} follows; steps to reproduce: " * 3

    reports: list[Report] = []
    for n in range(CASES * REPORTS_PER_CASE):
        w = words[n % len(words)]
        reports.append(
            Report(
                tracking_id=f"VR-{year}-{n + 1:06d}",
                year=year,
                number=n + 1,
                inbox_state=InboxState.TAKEN,
                stage=Stage.VALIDATING,
                created_at=now - dt.timedelta(minutes=n),
                reporter_name=f"Researcher {n}",
                reporter_email=f"r{n}@bench.test",
                email_hash=secrets.token_hex(32),
                description=text.format(w=w),
                product=products[n % len(products)],
                token_hash=secrets.token_hex(32),
                ack_due_at=now + dt.timedelta(days=3),
            )
        )
    Report.objects.bulk_create(reports, batch_size=2000)
    report_ids = list(Report.objects.order_by("number").values_list("pk", flat=True))

    cases: list[Case] = []
    for n in range(CASES):
        state = states[n % len(states)]
        cases.append(
            Case(
                public_id=uuid.uuid4(),
                key=f"CASE-{year}-{n + 1:05d}",
                year=year,
                number=n + 1,
                title=f"{words[n % len(words)].upper()} issue in Bench Camera {n % 20} (#{n})",
                state=state,
                product=products[n % 20],
                product_line=line,
                severity=["Low", "Medium", "High", "Critical"][n % 4],
                received_at=now - dt.timedelta(hours=n),
                ack_due_at=now + dt.timedelta(hours=(n % 200) - 100),
                remediation_due_at=now + dt.timedelta(days=(n % 120) - 30),
                disclosure_date=(now + dt.timedelta(days=n % 60)).date() if state == "awaiting_disclosure" else None,
                created_at=now - dt.timedelta(hours=n),
            )
        )
    Case.objects.bulk_create(cases, batch_size=2000)
    case_ids = list(Case.objects.order_by("number").values_list("pk", flat=True))
    CaseReport.objects.bulk_create(
        (
            CaseReport(case_id=case_ids[n], report_id=report_ids[n * 3 + k], is_duplicate=k > 0, credited=k == 0)
            for n in range(CASES)
            for k in range(REPORTS_PER_CASE)
        ),
        batch_size=5000,
    )
    Assignment.objects.bulk_create(
        (Assignment(case_id=case_ids[n], user=handlers[n % HANDLERS]) for n in range(CASES)), batch_size=5000
    )
    StateChange.objects.bulk_create(
        (StateChange(case_id=cid, from_state="", to_state="new") for cid in case_ids), batch_size=5000
    )
    Message.objects.bulk_create(
        (
            Message(
                report_id=report_ids[n % len(report_ids)],
                author_kind=AuthorKind.TEAM if n % 2 else AuthorKind.REPORTER,
                body=f"Message {n}: thanks, we are looking at it. " * 4,
                is_internal=n % 5 == 0,
                via=Via.DESK,
            )
            for n in range(MESSAGES)
        ),
        batch_size=5000,
    )
    # The case shown: the first one of handler 0 (3 reports, ~10 messages).
    shown = Case.objects.filter(assignments__user=handlers[0]).order_by("number").first()
    assert shown is not None
    return {"lead": lead, "handler": handlers[0], "case": shown}


def measure(client: Any, url: str, n: int) -> dict[str, float]:
    for _ in range(3):  # warm-up: template loading, first queries
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return {
        "median": round(statistics.median(times), 1),
        "p95": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
    }


def child(requests: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    world = populate()
    load_s = time.perf_counter() - t0
    lead, handler = signed_in(world["lead"]), signed_in(world["handler"])
    case_url = f"/en/desk/cases/{world['case'].public_id}/"
    pages = {
        "trivial": (lead, "/bench/trivial"),
        "home_lead": (lead, "/en/desk/cases/dashboard/"),
        "home_handler": (handler, "/en/desk/cases/dashboard/"),
        "list": (lead, "/en/desk/cases/"),
        "list_filtered": (lead, "/en/desk/cases/?state=open&q=rtsp&sort=ack_due"),
        "list_mine": (handler, "/en/desk/cases/?mine=1&due=overdue&sort=next_due"),
        "case": (lead, case_url),
    }
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        client, url = pages[os.environ["BENCH_PROFILE"]]
        measure(client, url, 2)
        profiler = cProfile.Profile()
        profiler.enable()
        measure(client, url, 5)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    results = {name: measure(client, url, requests) for name, (client, url) in pages.items()}
    print("JSON " + json.dumps({"load_s": round(load_s, 1), "pages": results}), flush=True)


# --------------------------------------------------------------------------------------------- the parent


def run_child(database: str, requests: int) -> dict[str, Any]:
    script = Path(__file__).resolve()
    return run_django_child(script, name="desk", database=database, pg_db=PG_DB, args=["--requests", str(requests)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="20 requests per page instead of 100")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    requests = args.requests or (20 if args.quick else 100)
    if args.child:
        child(requests)
        return
    runs: dict[str, dict[str, Any]] = {}
    if not args.no_sqlite:
        runs["sqlite"] = run_child("sqlite", requests)
    if not args.no_postgresql and pg_available():
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {PG_DB}")
        try:
            runs["postgresql"] = run_child("postgresql", requests)
        finally:
            pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    fields: list[str] = []
    ok = True
    for db, run in runs.items():
        pages = run["pages"]
        trivial = pages["trivial"]["median"] or 0.1
        print(
            f"== {db}: {CASES} cases, {CASES * REPORTS_PER_CASE} reports, {MESSAGES} messages (load {run['load_s']} s)"
        )
        print(f"   {'page':<15} {'median ms':>10} {'p95 ms':>8} {'× trivial':>10}")
        for name, figures in pages.items():
            ratio = figures["median"] / trivial
            print(f"   {name:<15} {figures['median']:>10.1f} {figures['p95']:>8.1f} {ratio:>10.1f}")
            fields.append(f"{db}_{name}_p95_ms={figures['p95']}")
            if name != "trivial":
                fields.append(f"{db}_{name}_ratio={ratio:.1f}")
                ok = ok and figures["p95"] < TARGET_MS
    print("RESULT " + " ".join(fields) + f" target_p95_ms={TARGET_MS:.0f} all_under_target={'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
