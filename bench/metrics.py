"""Metrics benchmark: the desk's metrics page over three years of cases, and the case file of a busy case.

Bulk-loads cases received over three years with realistic state histories (acknowledged, triaged, confirmed,
fixed, published, closed, some re-opened, some still open), one report each (web, API or mail), then measures
in-process through Django's full middleware stack (sessions, auth, 2FA, locale, CSP) with the test client,
signed in as a lead:

* the metrics page over the whole three years and over the default 12 months (nothing is cached: every
  request computes every figure), at a first size and again after loading up to the full size, with the
  number of SQL queries of one request at each size (it must not grow with the cases);
* the case file (PDF) of one case with 200 audited events, built and rendered (median of a few runs).

Reference, same process and run: a trivial view that reads the signed-in user and answers "ok". SQLite first,
then PostgreSQL when 127.0.0.1:5432 answers (database `psirt_bench_metrics`, created and dropped here; analyzed after
loading, as autovacuum would).

Targets: metrics page p95 < 300 ms on both databases at 10,000 cases; query count the same at both sizes;
case file < 2 s. `--quick`: 500 then 1,000 cases, 10 requests per page. The last line is `RESULT key=value …`.
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

PG_DB = pg_database("psirt_bench_metrics")
TARGET_MS = 300.0
TARGET_FILE_S = 2.0


# --------------------------------------------------------------------------------------------- the child


def populate(first: int, count: int) -> None:
    """Bulk-load cases number `first`…`first + count - 1`, received over the last three years, each with its
    report and its state history (deterministic: case n always gets the same story)."""
    import datetime as dt
    import random
    import secrets
    import uuid

    from django.utils import timezone

    from psirt.cases.models import Case, CaseReport, StateChange
    from psirt.cases.services.workflow import CaseState as S
    from psirt.catalog.models import Product, ProductLine
    from psirt.intake.models import InboxState, Report, Source, Stage

    lines = list(ProductLine.objects.order_by("position"))
    if not lines:
        lines = [ProductLine.objects.create(slug=f"line-{i}", name_en=f"Line {i}", position=i) for i in range(4)]
        for i in range(20):
            Product.objects.create(line=lines[i % 4], slug=f"bench-{i}", name=f"Bench Camera {i}")
    products = list(Product.objects.order_by("slug"))
    now = timezone.now()
    span = dt.timedelta(days=3 * 365)
    path = [S.ACKNOWLEDGED, S.TRIAGE, S.CONFIRMED, S.REMEDIATION, S.AWAITING_DISCLOSURE, S.PUBLISHED, S.CLOSED]
    cases: list[Case] = []
    reports: list[Report] = []
    stories: list[list[tuple[str, str, dt.datetime]]] = []
    for n in range(first, first + count):
        rng = random.Random(n)
        received = now - span + span * rng.random()
        product = products[n % len(products)]
        steps = rng.choice([1, 2, 3, 4, 5, 6, 7, 7, 7, 7])
        story: list[tuple[str, str, dt.datetime]] = [("", S.NEW, received)]
        at = received
        state = S.NEW
        fields: dict[str, Any] = {}
        for step in path[:steps]:
            at = at + dt.timedelta(hours=rng.randint(2, 24 * (3 if step == S.ACKNOWLEDGED else 20)))
            if at > now:
                break
            story.append((state, step, at))
            state = step
            if step == S.ACKNOWLEDGED:
                fields["acknowledged_at"] = at
            if step == S.CONFIRMED:
                fields["confirmed_at"] = at
                fields["remediation_due_at"] = at + dt.timedelta(days=90)
            if step == S.AWAITING_DISCLOSURE:
                fields["disclosure_date"] = (at + dt.timedelta(days=rng.randint(1, 30))).date()
        if state == S.CLOSED and n % 25 == 0 and at + dt.timedelta(days=3) < now:  # re-opened
            story.append((S.CLOSED, S.TRIAGE, at + dt.timedelta(days=3)))
            state = S.TRIAGE
        stories.append(story)
        cases.append(
            Case(
                public_id=uuid.uuid4(),
                key=f"CASE-B-{n:06d}",
                year=2000 + n // 100000,
                number=n,
                title=f"Issue {n} in {product.name}",
                state=state,
                product=product,
                product_line=product.line,
                severity=["Low", "Medium", "High", "Critical", ""][n % 5],
                cwe_id=[79, 787, 22, 78, 287, None][n % 6],
                exploitation=["none", "none", "none", "poc", "active"][n % 5],
                received_at=received,
                created_at=received,
                ack_due_at=received + dt.timedelta(days=7),
                **fields,
            )
        )
        reports.append(
            Report(
                tracking_id=f"VR-B-{n:06d}",
                year=2000 + n // 100000,
                number=n,
                source=[Source.WEB, Source.API, Source.EMAIL][n % 3],
                inbox_state=InboxState.TAKEN,
                stage=Stage.VALIDATING,
                created_at=received,
                reporter_name=f"Researcher {n}",
                reporter_email=f"r{n}@bench.test",
                email_hash=secrets.token_hex(32),
                description="A crafted request overflows the RTSP parser.",
                product=product,
                token_hash=secrets.token_hex(32),
            )
        )
    Case.objects.bulk_create(cases, batch_size=2000)
    Report.objects.bulk_create(reports, batch_size=2000)
    case_ids = dict(Case.objects.filter(number__gte=first).values_list("number", "pk"))
    report_ids = dict(Report.objects.filter(number__gte=first).values_list("number", "pk"))
    CaseReport.objects.bulk_create(
        (CaseReport(case_id=case_ids[n], report_id=report_ids[n]) for n in range(first, first + count)),
        batch_size=5000,
    )
    StateChange.objects.bulk_create(
        (
            StateChange(case_id=case_ids[first + i], from_state=f, to_state=t, at=at)
            for i, story in enumerate(stories)
            for f, t, at in story
        ),
        batch_size=5000,
    )


def busy_case(lead: Any) -> Any:
    """A case with 200 audited events: state changes, scores, messages with the reporter."""
    from psirt.audit.services import record
    from psirt.cases.models import Case, StateChange
    from psirt.intake.models import AuthorKind, Message, Via

    case = Case.objects.filter(state="closed").order_by("number").first()
    assert case is not None
    report = case.case_reports.get().report
    for i in range(120):
        record(action="case.scored", actor=lead, target=case, data={"version": "3.1", "vector": f"v{i}"})
    for i in range(60):
        message = Message.objects.create(
            report=report, author_kind=AuthorKind.TEAM, author=lead, body=f"Update {i}: " * 8, via=Via.DESK
        )
        record(action="report.team_message", actor=lead, target=report, data={"message": str(message.public_id)})
    for i in range(20):
        StateChange.objects.create(case=case, from_state="triage", to_state="confirmed", actor=lead, reason=f"{i}")
        record(action="case.transition", actor=lead, target=case, data={"from": "triage", "to": "confirmed"})
    return case


def measure(client: Any, url: str, n: int) -> dict[str, float]:
    from django.db import connection

    for _ in range(2):  # warm-up: templates, the calendar's holiday tables
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    queries: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url)
    if os.environ.get("BENCH_PROFILE") and "metrics" in url:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        client.get(url)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
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
        "queries": len(queries),
    }


def child(requests: int, sizes: list[int]) -> None:
    import datetime as dt

    import django

    django.setup()
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from psirt.accounts.models import Role, User
    from psirt.metrics import casefile

    call_command("migrate", verbosity=0)
    lead_user = User.objects.create_user("lead@bench.test", "bench-pass-Quokka-42", role=Role.LEAD, name="Lead")
    TOTP.activate(lead_user, generate_totp_secret())
    lead = signed_in(lead_user)
    today = timezone.localdate()
    three_years = f"/en/desk/metrics/?from={(today - dt.timedelta(days=3 * 365)).isoformat()}&to={today.isoformat()}"
    results: dict[str, Any] = {"sizes": {}}
    loaded = 0
    for size in sizes:
        t0 = time.perf_counter()
        populate(loaded + 1, size - loaded)
        if connection.vendor == "postgresql":  # as autovacuum would after a bulk load: the planner's statistics
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        loaded = size
        load_s = time.perf_counter() - t0
        results["sizes"][str(size)] = {
            "load_s": round(load_s, 1),
            "trivial": measure(lead, "/bench/trivial", requests),
            "metrics_3y": measure(lead, three_years, requests),
            "metrics_12m": measure(lead, "/en/desk/metrics/", requests),
        }
    case = busy_case(lead_user)
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        built = casefile.build(case, lead_user)
        casefile.render_pdf(built)
        runs.append(time.perf_counter() - t0)
    results["case_file"] = {"entries": built.entry_count, "median_s": round(statistics.median(runs), 2)}
    print("JSON " + json.dumps(results), flush=True)


# --------------------------------------------------------------------------------------------- the parent


def run_child(database: str, requests: int, sizes: list[int]) -> dict[str, Any]:
    args = ["--requests", str(requests), "--sizes", ",".join(str(s) for s in sizes)]
    return run_django_child(Path(__file__).resolve(), name="metrics", database=database, pg_db=PG_DB, args=args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="500 then 1,000 cases, 10 requests per page")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    requests = args.requests or (10 if args.quick else 50)
    sizes = [int(s) for s in args.sizes.split(",") if s] or ([500, 1000] if args.quick else [1000, 10000])
    if args.child:
        child(requests, sizes)
        return
    runs: dict[str, dict[str, Any]] = {}
    if not args.no_sqlite:
        runs["sqlite"] = run_child("sqlite", requests, sizes)
    if not args.no_postgresql and pg_available():
        pg_create(PG_DB)
        try:
            runs["postgresql"] = run_child("postgresql", requests, sizes)
        finally:
            pg_drop(PG_DB)
    fields: list[str] = []
    ok = True
    for db, run in runs.items():
        print(f"== {db}")
        print(f"   {'cases':>6} {'page':<12} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'× trivial':>10}")
        query_counts = set()
        for size, pages in run["sizes"].items():
            trivial = pages["trivial"]["median"] or 0.1
            for name, figures in pages.items():
                if name == "load_s":
                    continue
                ratio = figures["median"] / trivial
                print(
                    f"   {size:>6} {name:<12} {figures['median']:>10.1f} {figures['p95']:>8.1f} "
                    f"{figures['queries']:>8} {ratio:>10.1f}"
                )
                if name != "trivial":
                    query_counts.add((name, figures["queries"]))
                    fields.append(f"{db}_{size}_{name}_p95_ms={figures['p95']}")
                    fields.append(f"{db}_{size}_{name}_ratio={ratio:.1f}")
                    fields.append(f"{db}_{size}_{name}_queries={figures['queries']}")
            last = pages
        ok = ok and all(last[p]["p95"] < TARGET_MS for p in ("metrics_3y", "metrics_12m"))
        flat = len({q for _n, q in query_counts if _n == "metrics_3y"}) == 1
        ok = ok and flat
        file = run["case_file"]
        print(f"   case file: {file['entries']} entries, {file['median_s']} s (PDF, median of 3)")
        fields += [f"{db}_queries_flat={'yes' if flat else 'NO'}", f"{db}_case_file_s={file['median_s']}"]
        ok = ok and file["median_s"] < TARGET_FILE_S
    print(
        "RESULT "
        + " ".join(fields)
        + f" target_p95_ms={TARGET_MS:.0f} target_case_file_s={TARGET_FILE_S:.0f}"
        + f" all_under_target={'yes' if ok else 'NO'}"
    )


if __name__ == "__main__":
    main()
