"""The regulatory parts of the metrics page and the case file: what the regulatory app answers, shown there
with the audit event behind each filing, within need-to-know and the page's filters."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from psirt.accounts.models import User
from psirt.audit.models import AuditEvent
from psirt.metrics import casefile
from psirt.metrics.queries import Filters, compute_all
from psirt.metrics.tables import Table
from psirt.regulatory import services
from psirt.regulatory.models import Obligation, Stage
from psirt.regulatory.queries import clocks_met


def _file_early_warning(obligation: Obligation, lead: User, handler: User) -> None:
    services.decide(obligation=obligation, actor=lead, reportable=True, evidence="seen in the wild")
    services.submit_stage(
        obligation=obligation,
        actor=handler,
        stage=Stage.EARLY_WARNING,
        values={"summary": "Exploited RTSP overflow"},
        reference="SRP-2026-0042",
    )


def _clock_table(user: User, **filters: str) -> list[object]:
    today = timezone.localdate()
    m = compute_all(user, Filters(start=today - dt.timedelta(days=30), end=today, **filters))
    return _clocks_of(m.extra)


def _clocks_of(extra: list[object]) -> list[object]:
    (table,) = [t for t in extra if isinstance(t, Table) and t.name == "regulatory_clocks"]
    return [cell.value for cell in table.rows[0]]


def test_the_case_file_lists_each_filing_with_its_audit_event(obligation: Obligation, lead: User, handler: User):
    _file_early_warning(obligation, lead, handler)
    assert obligation.case is not None
    sections = {s.name: s for s in casefile.build(obligation.case, lead).sections}
    entries = sections["regulatory"].entries
    submitted = AuditEvent.objects.get(action="regulatory.filing.submit")
    (filing,) = [e for e in entries if e.audit_hash == submitted.hash]
    assert filing.audit_seq == submitted.seq
    assert filing.details["Platform reference"] == "SRP-2026-0042"
    assert filing.details["Coordinator CSIRT"] == "BSI (CERT-Bund)"
    assert "Exploited RTSP overflow" in filing.text
    assert filing.actor == handler.email
    decided = AuditEvent.objects.get(action="regulatory.obligation.decide")
    assert decided.hash in [e.audit_hash for e in entries]
    # Looking at the obligation is not part of the story.
    assert not [e for e in entries if e.title.endswith(".viewed")]
    assert [e.at for e in entries] == sorted(e.at for e in entries if e.at)


def test_a_case_without_obligations_has_an_empty_regulatory_section(case, lead: User) -> None:
    sections = {s.name: s for s in casefile.build(case, lead).sections}
    assert sections["regulatory"].entries == []


def test_the_metrics_page_counts_the_clocks_the_regulatory_app_judges(obligation: Obligation, lead, handler):
    _file_early_warning(obligation, lead, handler)
    tally = clocks_met(Obligation.objects.all())
    assert tally.met == 1  # the early warning, filed two hours after awareness
    assert _clock_table(lead) == [tally.met, tally.missed, tally.open]
    # The handler of the case sees the same obligation; an engineer sees none.
    assert _clock_table(handler) == [tally.met, tally.missed, tally.open]


def test_the_clock_table_follows_need_to_know_and_the_filters(obligation: Obligation, lead, handler, engineer):
    _file_early_warning(obligation, lead, handler)
    assert _clock_table(engineer) == [0, 0, 0]
    assert _clock_table(lead, line="no-such-line") == [0, 0, 0]
    assert _clock_table(lead, severity="low") == [0, 0, 0]
    assert obligation.case is not None and obligation.case.product is not None
    assert _clock_table(lead, product=obligation.case.product.slug)[0] == 1
    old = timezone.localdate() - dt.timedelta(days=400)
    m = compute_all(lead, Filters(start=old, end=old + dt.timedelta(days=30)))
    assert _clocks_of(m.extra) == [0, 0, 0]
