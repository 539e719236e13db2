"""Case desk benchmark: every desk page with 100,000 cases, 300,000 reports and 1,000,000 messages in the database.

Measured in-process through Django's full middleware stack (sessions, auth, 2FA, locale, CSP) with the test
client, signed in as a lead (sees every case) or a handler (sees a tenth of them): the desk panel (the desk home's
case dashboard), the case list unfiltered and filtered (state + text search + sort; "mine"), a case page
(3 reports, ~10 messages, audited view), the inbox of new reports and a report page. Reference, same process and
run: a trivial view that reads the signed-in user (session + user lookup) and answers "ok". Besides wall times,
the median CPU time of the benchmark's process per request ("CPU ms": on SQLite it includes the database's work,
on PostgreSQL only the application's), which a loaded machine disturbs far less than wall times. SQLite first, then
PostgreSQL when 127.0.0.1:5432 answers (database `psirt_bench_desk`, created and dropped here; analyzed after
loading, as autovacuum would).

The data are bulk-inserted in batches (encrypted fields encrypt on insert): `--cases N` cases (default 100,000),
3 reports each, 10 messages per case, and N / 100 new reports in the inbox. Target: p95 < 100 ms for every page on
both databases. `--quick`: 2,000 cases and 20 requests per page instead of 100. The last line is
`RESULT key=value …`.
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

from bench._harness import pg_available, pg_create, pg_database, pg_drop, run_django_child, signed_in  # noqa: E402

PG_DB = pg_database("psirt_bench_desk")
TARGET_MS = 100.0

REPORTS_PER_CASE = 3
MESSAGES_PER_CASE = 10
HANDLERS = 10
BATCH = 5000


# --------------------------------------------------------------------------------------------- the child


def populate(cases: int) -> dict[str, Any]:
    """Bulk-load the catalog, people, cases, reports and messages in batches of `BATCH` rows, so memory stays
    flat whatever the size (encrypted fields encrypt on insert)."""
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
    linked = cases * REPORTS_PER_CASE

    def report(n: int) -> Report:
        w = words[n % len(words)]
        return Report(
            tracking_id=f"VR-{year}-{n + 1:07d}",
            year=year,
            number=n + 1,
            inbox_state=InboxState.TAKEN if n < linked else InboxState.NEW,
            stage=Stage.VALIDATING if n < linked else Stage.RECEIVED,
            created_at=now - dt.timedelta(minutes=n),
            reporter_name=f"Researcher {n}",
            reporter_email=f"r{n}@bench.test",
            email_hash=secrets.token_hex(32),
            description=text.format(w=w),
            product=products[n % len(products)],
            token_hash=secrets.token_hex(32),
            ack_due_at=now + dt.timedelta(days=3),
        )

    def case(n: int) -> Case:
        state = states[n % len(states)]
        return Case(
            public_id=uuid.uuid4(),
            key=f"CASE-{year}-{n + 1:06d}",
            year=year,
            number=n + 1,
            title=f"{words[n % len(words)].upper()} issue in Bench Camera {n % 20} (#{n})",
            state=state,
            product=products[n % 20],
            product_line=line,
            severity=["Low", "Medium", "High", "Critical"][n % 4],
            received_at=now - dt.timedelta(minutes=10 * n),
            ack_due_at=now + dt.timedelta(hours=(n % 200) - 100),
            remediation_due_at=now + dt.timedelta(days=(n % 120) - 30),
            disclosure_date=(now + dt.timedelta(days=n % 60)).date() if state == "awaiting_disclosure" else None,
            created_at=now - dt.timedelta(minutes=10 * n),
        )

    for start in range(0, linked + cases // 100, BATCH):
        Report.objects.bulk_create([report(n) for n in range(start, min(start + BATCH, linked + cases // 100))])
    report_ids = list(Report.objects.order_by("number").values_list("pk", flat=True))
    for start in range(0, cases, BATCH):
        Case.objects.bulk_create([case(n) for n in range(start, min(start + BATCH, cases))])
    case_ids = list(Case.objects.order_by("number").values_list("pk", flat=True))
    for start in range(0, cases, BATCH):
        batch = range(start, min(start + BATCH, cases))
        CaseReport.objects.bulk_create(
            CaseReport(case_id=case_ids[n], report_id=report_ids[n * 3 + k], is_duplicate=k > 0, credited=k == 0)
            for n in batch
            for k in range(REPORTS_PER_CASE)
        )
        Assignment.objects.bulk_create(Assignment(case_id=case_ids[n], user=handlers[n % HANDLERS]) for n in batch)
        StateChange.objects.bulk_create(StateChange(case_id=case_ids[n], from_state="", to_state="new") for n in batch)
    for start in range(0, cases * MESSAGES_PER_CASE, BATCH):
        Message.objects.bulk_create(
            Message(
                report_id=report_ids[n % linked],
                author_kind=AuthorKind.TEAM if n % 2 else AuthorKind.REPORTER,
                body=f"Message {n}: thanks, we are looking at it. " * 4,
                is_internal=n % 5 == 0,
                via=Via.DESK,
            )
            for n in range(start, min(start + BATCH, cases * MESSAGES_PER_CASE))
        )
    # The case shown: the first one of handler 0 (3 reports, ~10 messages); the report shown: its first.
    shown = Case.objects.filter(assignments__user=handlers[0]).order_by("number").first()
    assert shown is not None
    first_report = shown.case_reports.get(is_duplicate=False).report
    return {"lead": lead, "handler": handlers[0], "case": shown, "report": first_report}


def measure(client: Any, url: str, n: int) -> dict[str, float]:
    for _ in range(3):  # warm-up: template loading, first queries
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    cpu = []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return {
        "median": round(statistics.median(times), 1),
        "p95": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "cpu": round(statistics.median(cpu), 1),
    }


def child(requests: int, cases: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    world = populate(cases)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
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
        "inbox": (lead, "/en/desk/inbox/"),
        "report": (lead, f"/en/desk/inbox/{world['report'].public_id}/"),
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


def run_child(database: str, requests: int, cases: int) -> dict[str, Any]:
    script = Path(__file__).resolve()
    args = ["--requests", str(requests), "--cases", str(cases)]
    return run_django_child(script, name="desk", database=database, pg_db=PG_DB, args=args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2,000 cases, 20 requests per page instead of 100")
    parser.add_argument("--cases", type=int, default=0, help="number of cases (default 100,000)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    requests = args.requests or (20 if args.quick else 100)
    cases = args.cases or (2000 if args.quick else 100_000)
    if args.cases and args.cases < HANDLERS:
        parser.error(f"--cases must be at least {HANDLERS}")
    if args.child:
        child(requests, cases)
        return
    runs: dict[str, dict[str, Any]] = {}
    if not args.no_sqlite:
        runs["sqlite"] = run_child("sqlite", requests, cases)
    if not args.no_postgresql and pg_available():
        pg_create(PG_DB)
        try:
            runs["postgresql"] = run_child("postgresql", requests, cases)
        finally:
            pg_drop(PG_DB)
    fields: list[str] = []
    ok = True
    for db, run in runs.items():
        pages = run["pages"]
        trivial = pages["trivial"]["median"] or 0.1
        print(
            f"== {db}: {cases} cases, {cases * REPORTS_PER_CASE + cases // 100} reports, "
            f"{cases * MESSAGES_PER_CASE} messages (loaded in {run['load_s']} s)"
        )
        print(f"   {'page':<15} {'median ms':>10} {'p95 ms':>8} {'× trivial':>10} {'CPU ms':>8}")
        for name, figures in pages.items():
            ratio = figures["median"] / trivial
            median, p95, cpu = figures["median"], figures["p95"], figures["cpu"]
            print(f"   {name:<15} {median:>10.1f} {p95:>8.1f} {ratio:>10.1f} {cpu:>8.1f}")
            fields.append(f"{db}_{name}_p95_ms={figures['p95']}")
            fields.append(f"{db}_{name}_cpu_ms={figures['cpu']}")
            if name != "trivial":
                fields.append(f"{db}_{name}_ratio={ratio:.1f}")
                ok = ok and figures["p95"] < TARGET_MS
    fields.append(f"cases={cases}")
    print("RESULT " + " ".join(fields) + f" target_p95_ms={TARGET_MS:.0f} all_under_target={'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
