"""Abuse controls: per-address and per-e-mail limits in the database, a clear 429, and race-free numbering."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from psirt.counters.exceptions import RateLimited
from psirt.counters.models import RateCounter
from psirt.counters.services import ratelimit
from psirt.intake.models import Report
from psirt.intake.services import ReportInput, submit_report
from psirt.intake.services.limits import limit
from psirt.intake.tests.conftest import pcap_file, valid_post


@pytest.mark.django_db
def test_form_is_limited_per_address_with_a_try_again_page_keeping_the_text(catalog, settings):
    settings.PSIRT_INTAKE_RATES = {"report_ip": (2, 3600)}
    client = Client(REMOTE_ADDR="198.51.100.7")
    for n in range(2):
        assert client.post("/en/report/", valid_post(reporter_email=f"r{n}@x.test")).status_code == 302
    response = client.post("/en/report/", valid_post(reporter_email="r3@x.test", attachments=[pcap_file()]))
    assert response.status_code == 429
    html = response.content.decode()
    assert "Please try again in 60 minutes." in html or "Please try again in" in html
    assert 0 < int(response["Retry-After"]) <= 3600
    # Nothing typed lost, the file kept for later.
    assert "Unauthenticated RCE in the web UI." in html and "capture.pcap" in html
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.8")
    assert other.post("/en/report/", valid_post(reporter_email="r4@x.test")).status_code == 302
    assert Report.objects.count() == 3


@pytest.mark.django_db
def test_limit_is_per_email_whatever_the_address(catalog, settings):
    settings.PSIRT_INTAKE_RATES = {"report_email": (1, 3600)}
    assert Client(REMOTE_ADDR="192.0.2.1").post("/en/report/", valid_post()).status_code == 302
    response = Client(REMOTE_ADDR="192.0.2.2").post("/en/report/", valid_post(reporter_email="Ada@Research.test"))
    assert response.status_code == 429


@pytest.mark.django_db
def test_counters_hold_no_address_or_email(catalog):
    Client(REMOTE_ADDR="203.0.113.5").post("/en/report/", valid_post())
    keys = " ".join(RateCounter.objects.values_list("key", flat=True))
    assert RateCounter.objects.count() == 2
    assert "203.0.113.5" not in keys and "ada@" not in keys


@pytest.mark.django_db
def test_blocked_client_does_not_extend_its_block(settings):
    settings.PSIRT_INTAKE_RATES = {"report_ip": (1, 60)}
    ratelimit.hit(limit("report_ip", "192.0.2.50"))
    for _ in range(5):
        with pytest.raises(RateLimited) as exc:
            ratelimit.hit(limit("report_ip", "192.0.2.50"))
        assert 1 <= exc.value.retry_after <= 60
    assert RateCounter.objects.get().count == 1


@pytest.mark.django_db
def test_expired_counters_are_purged(settings):
    from datetime import timedelta

    from django.utils import timezone

    ratelimit.hit(limit("report_ip", "192.0.2.60"))
    RateCounter.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ratelimit.purge_expired_counters() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_distinct_consecutive_tracking_ids():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("threads need a database file or PostgreSQL; covered by bench/intake.py on SQLite")
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            data = ReportInput(reporter_name="A", reporter_email=f"t{n}@x.test", description="d")
            results.append(submit_report(data=data, send_acknowledgment=False, ip=f"192.0.2.{n}").report.tracking_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(int(t.rsplit("-", 1)[1]) for t in results)
    assert numbers == list(range(1, 9))
    assert Report.objects.count() == 8


@pytest.mark.django_db
def test_hit_all_counts_every_pair_in_one_go(settings):
    settings.PSIRT_INTAKE_RATES = {"report_ip": (5, 60), "report_email": (5, 60)}
    ratelimit.hit_all(limit("report_ip", "192.0.2.70"), limit("report_email", "a@x.test"))
    ratelimit.hit_all(limit("report_ip", "192.0.2.70"), limit("report_email", "b@x.test"))
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [1, 1, 2]


@pytest.mark.django_db
def test_hit_all_refused_by_one_full_window_counts_nothing(settings):

    settings.PSIRT_INTAKE_RATES = {"report_ip": (5, 60), "report_email": (1, 600)}
    ratelimit.hit_all(limit("report_email", "full@x.test"))
    with pytest.raises(RateLimited) as exc, transaction.atomic():
        ratelimit.hit_all(limit("report_ip", "192.0.2.71"), limit("report_email", "full@x.test"))
    assert 1 <= exc.value.retry_after <= 600
    # The address's count went back with the refused transaction.
    assert list(RateCounter.objects.values_list("count", flat=True)) == [1]


@pytest.mark.django_db
def test_a_report_that_cannot_be_stored_leaves_no_file_and_its_number_unused(settings, monkeypatch, tmp_path):
    from psirt.intake import services
    from psirt.intake.services import submission
    from psirt.lib.crypto import file_store

    settings.PSIRT_VAR_DIR = str(tmp_path)

    def broken_audit(**kwargs):
        raise RuntimeError("database went away")

    data = ReportInput(reporter_name="A", reporter_email="gap@x.test", description="d")
    first = submit_report(data=data, send_acknowledgment=False, ip="192.0.2.80").report.tracking_id
    # submit_report looks `record` up in its own module, so the patch goes there.
    monkeypatch.setattr(submission, "record", broken_audit)
    files = [services.IncomingFile(name="poc.txt", source=b"proof")]
    with pytest.raises(RuntimeError):
        submit_report(data=data, files=files, send_acknowledgment=False, ip="192.0.2.80")
    monkeypatch.undo()
    assert Report.objects.count() == 1
    assert not [p for p in file_store().root.rglob("*") if p.is_file()]
    last = submit_report(data=data, send_acknowledgment=False, ip="192.0.2.80").report.tracking_id
    if connection.vendor == "sqlite":
        # One transaction holds the number and the report: the number went back with the failed report.
        assert int(last.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1
    else:
        # The number committed on its own is not given to the next one (it may have been logged): a gap.
        assert int(last.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 2


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_report_takes_the_write_lock_once():
    """SQLite has one write lock for the whole database: a report's writes share one transaction (one wait
    for the lock, one COMMIT), with no savepoints of their own (around the counter, the report or the audit
    entry)."""
    if connection.vendor != "sqlite":
        pytest.skip("the database-wide write lock is SQLite's")
    from django.test.utils import CaptureQueriesContext

    from psirt.organization.models import OrganizationProfile

    OrganizationProfile.get()  # created beforehand: its creation is a transaction of its own
    data = ReportInput(reporter_name="A", reporter_email="lock@x.test", description="d")
    submit_report(data=data, ip="192.0.2.81")  # the year's first number creates its sequence row
    with CaptureQueriesContext(connection) as queries:
        tracking_id = submit_report(data=data, ip="192.0.2.81").report.tracking_id
    sql = [q["sql"] for q in queries.captured_queries]
    # Everything up to the first COMMIT (the acknowledgment's sending may follow it in tests).
    first = next(i for i, text in enumerate(sql) if text.upper().startswith("COMMIT"))
    head = [text.split()[0].upper() for text in sql[: first + 1]]
    assert head.count("BEGIN") == 1
    assert head.count("SAVEPOINT") == 0
    tables = " ".join(sql[: first + 1])
    for table in (
        "counters_ratecounter",
        "counters_sequence",
        "intake_report",
        "mail_outboxmessage",
        "audit_auditevent",
    ):
        assert f'"{table}"' in tables, table
    assert Report.objects.get(tracking_id=tracking_id).ack_due_at is not None


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_no_row_stays_locked_through_a_disk_flush_and_a_report_is_on_disk_when_returned(monkeypatch):
    """The counter-and-number and the report transactions commit without waiting for the disk (their
    contended rows, the address's counter and the audit chain's head, are released at once); the submission
    then waits, outside any transaction, until the WAL is on disk past the report's commit."""
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    from psirt.intake.services import submission

    seen: dict[str, object] = {}

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return str(cursor.fetchone()[0])

    real_hits, real_record, real_wait = ratelimit.hits, submission.record, submission._wait_for_the_disk

    def hits(*limits):
        seen["counter and number"] = setting()
        return real_hits(*limits)

    def record(**kwargs):
        seen["report"] = setting()
        return real_record(**kwargs)

    def wait_for_the_disk():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()")
            seen["committed up to"] = cursor.fetchone()[0]
        seen["in a transaction"] = connection.in_atomic_block
        real_wait()

    monkeypatch.setattr(ratelimit, "hits", hits)
    monkeypatch.setattr(submission, "record", record)
    monkeypatch.setattr(submission, "_wait_for_the_disk", wait_for_the_disk)
    data = ReportInput(reporter_name="A", reporter_email="sync@x.test", description="d")
    tracking_id = submit_report(data=data, send_acknowledgment=False, ip="192.0.2.90").report.tracking_id
    committed = seen.pop("committed up to")
    assert seen == {"counter and number": "off", "report": "off", "in a transaction": False}
    # Once submit_report returned, the WAL is on disk past the report's commit.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", [str(committed)])
        assert cursor.fetchone()[0] is True
    assert Report.objects.filter(tracking_id=tracking_id).exists()


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_disk_barrier_flushes_what_was_committed_without_waiting():
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    from psirt.intake.services.submission import _wait_for_the_disk

    with connection.cursor() as cursor:
        with transaction.atomic():
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            RateCounter.objects.create(key="barrier", window_start="2026-01-01T00:00Z", expires_at="2026-01-02T00:00Z")
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        committed = cursor.fetchone()[0]
        _wait_for_the_disk()
        cursor.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", [str(committed)])
        assert cursor.fetchone()[0] is True


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_without_the_barrier_the_report_commit_waits_for_the_disk_itself(monkeypatch):
    """A role that may not run the disk barrier keeps the report's transaction synchronous."""
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    from psirt.intake.services import submission

    assert submission._disk_barrier_allowed()  # granted to everyone by default
    seen: dict[str, object] = {}
    real_record = submission.record

    def record(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            seen["report"] = cursor.fetchone()[0]
        return real_record(**kwargs)

    def no_barrier() -> None:
        raise AssertionError("the barrier was used")

    monkeypatch.setattr(submission, "_disk_barrier_allowed", lambda: False)
    monkeypatch.setattr(submission, "_wait_for_the_disk", no_barrier)
    monkeypatch.setattr(submission, "record", record)
    data = ReportInput(reporter_name="A", reporter_email="nobarrier@x.test", description="d")
    submit_report(data=data, send_acknowledgment=False, ip="192.0.2.91")
    assert seen == {"report": "on"}
