from __future__ import annotations

import pytest
from django.db import transaction

from psirt.intake.models import TrackingSequence
from psirt.lib.sequences import next_in_year


@pytest.mark.django_db
def test_numbers_count_up_per_year_from_one() -> None:
    assert [next_in_year(TrackingSequence, 2026) for _ in range(3)] == [1, 2, 3]
    assert next_in_year(TrackingSequence, 2027) == 1
    assert next_in_year(TrackingSequence, 2026) == 4
    assert TrackingSequence.objects.get(year=2026).last == 4


@pytest.mark.django_db
def test_a_rolled_back_transaction_gives_its_number_back() -> None:
    assert next_in_year(TrackingSequence, 2026) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_in_year(TrackingSequence, 2026) == 2
        raise RuntimeError("the caller failed")
    assert next_in_year(TrackingSequence, 2026) == 2
