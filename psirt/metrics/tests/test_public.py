"""The public response statistics: off by default, turned on by a lead (audited), the same numbers as the desk,
each figure suppressed below the minimum count, fresh every day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.test import Client

from psirt.accounts.models import User
from psirt.audit.models import AuditEvent
from psirt.cases.services.workflow import CaseState as S
from psirt.metrics import public
from psirt.metrics.exceptions import MetricsError, NotAllowed
from psirt.metrics.services import set_public_statistics
from psirt.metrics.tests.conftest import SHANGHAI, make_case


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    public.forget()
    yield
    public.forget()


def acknowledged(n: int, *, late: int = 0, fixed_days: int | None = None) -> None:
    """`n` cases received in the last weeks and acknowledged (the last `late` of them after the deadline), and
    fixed `fixed_days` after confirmation when given."""
    base = dt.datetime.now(SHANGHAI).replace(microsecond=0) - dt.timedelta(days=60)
    for i in range(n):
        received = base + dt.timedelta(days=i % 30)
        ack = received + dt.timedelta(days=9 if i >= n - late else 1)
        changes = [(S.NEW, S.ACKNOWLEDGED, ack)]
        extra = {}
        if fixed_days is not None:
            confirmed = ack + dt.timedelta(days=1)
            changes.append((S.REMEDIATION, S.AWAITING_DISCLOSURE, confirmed + dt.timedelta(days=fixed_days)))
            extra = {"confirmed_at": confirmed, "remediation_due_at": confirmed + dt.timedelta(days=90)}
        make_case(
            state=S.ACKNOWLEDGED,
            received_at=received,
            ack_due_at=received + dt.timedelta(days=7),
            acknowledged_at=ack,
            changes=changes,
            **extra,
        )


def test_off_by_default_nothing_on_the_public_pages(client: Client, db: None) -> None:
    acknowledged(12)
    assert "data-response-statistics" not in client.get("/en/").content.decode()
    assert public.public_statistics() is None


def test_a_lead_turns_them_on_and_the_pages_show_the_figures(client: Client, lead: User) -> None:
    acknowledged(20, late=1, fixed_days=41)
    set_public_statistics(enabled=True, min_count=10, actor=lead)
    assert AuditEvent.objects.filter(action="metrics.public_statistics_set").count() == 1
    home = client.get("/en/").content.decode()
    assert "95 % of reports acknowledged within 5 business days." in home
    assert "Median time to fix after confirmation: 41 days." in home
    assert "data-response-statistics" in client.get("/en/policy/").content.decode()
    zh = client.get("/zh-hans/").content.decode()
    assert "95% 的报告在 5 个工作日内得到确认。确认后修复时间中位数：41 天。" in zh
    # Chinese sentences follow one another without a space; English ones with exactly one.
    assert "：95%" in zh and "。 " not in zh.split("data-response-statistics")[1].split("</p>")[0]
    assert "days. Median" in home and "days.  " not in home


def test_a_figure_below_the_minimum_count_is_left_out(client: Client, lead: User) -> None:
    acknowledged(12)  # 12 acknowledgments, no fix
    set_public_statistics(enabled=True, min_count=12, actor=lead)
    figures = public.public_statistics()
    assert figures is not None
    assert (figures.ack_percent, figures.fix_median_days) == (100, None)
    public.forget()
    set_public_statistics(enabled=True, min_count=13, actor=lead)
    assert public.public_statistics() is None
    assert "data-response-statistics" not in client.get("/en/").content.decode()


def test_the_minimum_is_never_below_five_and_only_leads_decide(lead: User, handler: User) -> None:
    with pytest.raises(MetricsError):
        set_public_statistics(enabled=True, min_count=4, actor=lead)
    with pytest.raises(NotAllowed):
        set_public_statistics(enabled=True, min_count=10, actor=handler)
    assert not AuditEvent.objects.filter(action="metrics.public_statistics_set").exists()


def test_figures_are_those_of_the_day(lead: User) -> None:
    acknowledged(10)
    today = dt.date.today()
    first = public.figures(min_count=5, today=today)
    acknowledged(10, late=10)
    assert public.figures(min_count=5, today=today) == first  # the same day: computed once
    later = public.figures(min_count=5, today=today + dt.timedelta(days=1))
    assert later.ack_percent == 50


def test_the_desk_form_is_for_leads(as_lead: Client, as_handler: Client, lead: User) -> None:
    assert as_handler.post("/en/desk/metrics/public/", {"enabled": "1", "min_count": "10"}).status_code == 404
    response = as_lead.post("/en/desk/metrics/public/", {"enabled": "1", "min_count": "abc"})
    assert response.status_code == 302
    assert not public.PublicStatistics.get().enabled
    as_lead.post("/en/desk/metrics/public/", {"enabled": "1", "min_count": "10"})
    assert public.PublicStatistics.get().enabled
