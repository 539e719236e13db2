from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from psirt.counters.exceptions import RateLimited
from psirt.counters.models import RateCounter, Sequence
from psirt.counters.services import ratelimit
from psirt.counters.services.ratelimit import Limit
from psirt.counters.services.sequences import move_past, next_in_year, next_in_year_counting
from psirt.lib.crypto import keyed_hash


@pytest.mark.django_db
def test_numbers_count_up_per_year_from_one() -> None:
    assert [next_in_year("tracking", 2026) for _ in range(3)] == [1, 2, 3]
    assert next_in_year("tracking", 2027) == 1
    assert next_in_year("tracking", 2026) == 4
    assert Sequence.objects.get(scope="tracking", year=2026).last == 4


@pytest.mark.django_db
def test_each_scope_counts_on_its_own() -> None:
    assert [next_in_year("case", 2026), next_in_year("advisory", 2026), next_in_year("case", 2026)] == [1, 1, 2]
    assert next_in_year("tracking", 2026) == 1


@pytest.mark.django_db
def test_a_rolled_back_transaction_gives_its_number_back() -> None:
    assert next_in_year("tracking", 2026) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_in_year("tracking", 2026) == 2
        raise RuntimeError("the caller failed")
    assert next_in_year("tracking", 2026) == 2


@pytest.mark.django_db
def test_numbering_while_counting_counts_each_limit_and_refuses_a_full_window_giving_the_number_back() -> None:
    address, mail = Limit("report_ip", "192.0.2.1", (3, 3600)), Limit("report_email", "a@research.test", (2, 3600))
    # The year's first number (its row created), then the next ones, each counted in both windows.
    assert [next_in_year_counting("tracking", 2026, address, mail) for _ in range(2)] == [1, 2]
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [2, 2]
    with pytest.raises(RateLimited), transaction.atomic():
        next_in_year_counting("tracking", 2026, address, mail)  # the e-mail's window is full
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [2, 2]  # nothing counted
    assert next_in_year_counting("tracking", 2026, address) == 3  # the refused one's number given back
    assert next_in_year_counting("tracking", 2026) == 4  # no limit: the number alone
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [2, 3]


@pytest.mark.django_db
def test_move_past_never_lowers_the_counter() -> None:
    move_past("advisory", 2026, 7)
    move_past("advisory", 2026, 3)
    assert next_in_year("advisory", 2026) == 8
    assert next_in_year("case", 2026) == 1


OLD_TABLES = [
    ("intake", "0002_report_number_assigned_last", "0003_sequence_to_counters", "TrackingSequence", "tracking"),
    ("cases", "0006_line_engineers_on_the_user", "0007_sequence_to_counters", "CaseSequence", "case"),
    ("advisories", "0003_source_csaf", "0004_sequence_to_counters", "AdvisorySequence", "advisory"),
]


@pytest.mark.django_db(transaction=True)
def test_the_migrations_carry_the_live_counters_over_and_back() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = [(app, old) for app, old, _new, _model, _scope in OLD_TABLES]
    try:
        executor.migrate(before)
        old_apps = MigrationExecutor(connection).loader.project_state(before).apps
        for app, _old, _new, model, _scope in OLD_TABLES:
            old_apps.get_model(app, model).objects.create(year=2025, last=41)
            old_apps.get_model(app, model).objects.create(year=2026, last=len(app))

        executor = MigrationExecutor(connection)
        executor.migrate([(app, new) for app, _old, new, _model, _scope in OLD_TABLES])
        carried = {(s.scope, s.year): s.last for s in Sequence.objects.all()}
        assert carried == {
            **{(scope, 2025): 41 for *_rest, scope in OLD_TABLES},
            **{(scope, 2026): len(app) for app, *_rest, scope in OLD_TABLES},
        }
        assert next_in_year("case", 2026) == len("cases") + 1

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        old_apps = MigrationExecutor(connection).loader.project_state(before).apps
        cases = old_apps.get_model("cases", "CaseSequence")
        assert dict(cases.objects.values_list("year", "last")) == {2025: 41, 2026: len("cases") + 1}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        Sequence.objects.all().delete()


@pytest.mark.django_db
def test_a_limit_hashes_its_key_once_for_its_check_and_its_hit() -> None:
    address, mail = Limit("report_ip", "192.0.2.9", (3, 3600)), Limit("report_email", "b@research.test", (2, 3600))
    with mock.patch.object(ratelimit, "keyed_hash", wraps=ratelimit.keyed_hash) as hashing:
        ratelimit.check(address, mail)
        with transaction.atomic():
            next_in_year_counting("tracking", 2026, address, mail)
    assert hashing.call_count == 2
    # The key is the keyed hash of scope and value: the counter table never holds the address.
    assert address.key == keyed_hash("report_ip\x00192.0.2.9", purpose="ratelimit")
    assert set(RateCounter.objects.values_list("key", flat=True)) == {address.key, mail.key}
