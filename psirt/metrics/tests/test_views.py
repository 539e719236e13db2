"""The metrics page, its links and its CSV files, through HTTP as each persona."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from conftest import client_for
from psirt.accounts.models import User
from psirt.metrics.tests.conftest import History

QUERY = "from=2026-01-01&to=2026-04-15"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.utils import timezone

    from psirt.metrics.tests.conftest import NOW

    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_the_page_shows_the_figures_in_both_languages(as_lead: Client, history: History, frozen: None) -> None:
    page = as_lead.get(f"/en/desk/metrics/?{QUERY}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Response metrics" in html
    assert "<svg" in html and "<title" in html and "<script" not in html and "style=" not in html
    assert 'id="table-promise-ack"' in html
    zh = as_lead.get(f"/zh-hans/desk/metrics/?{QUERY}").content.decode()
    assert "网络摄像机" in zh


def test_every_link_of_the_page_lists_the_cases_it_counted(as_lead: Client, history: History, frozen: None) -> None:
    html = as_lead.get(f"/en/desk/metrics/?{QUERY}").content.decode()
    # <td class="num"><a href="/en/desk/cases/?metric=…" data-count>N</a>: N is the number of cases listed.
    links = re.findall(r'<td class="num"><a href="([^"]+)" data-count>(\d+)</a>', html)
    assert len(links) > 20
    for href, n in links[:60]:
        url = unescape(href)
        assert parse_qs(urlparse(url).query)["metric"]
        listed = as_lead.get(url)
        assert listed.status_code == 200
        assert listed.context["page"].paginator.count == int(n), url


def test_the_case_list_refuses_a_forged_link_with_a_message(as_lead: Client, history: History) -> None:
    page = as_lead.get("/en/desk/cases/?metric=by:cwe:<script>&m_from=2026-01-01")
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 0
    assert "<script>" not in page.content.decode()
    assert "does not name a number" in page.content.decode()


def test_an_engineer_sees_only_their_lines(cams_engineer: User, history: History, frozen: None) -> None:
    client = client_for(cams_engineer)
    html = client.get(f"/en/desk/metrics/?{QUERY}").content.decode()
    assert "Only the cases you may see are counted." in html
    rows = _csv(client.get(f"/en/desk/metrics/by-line.csv?{QUERY}"))
    assert [r[0] for r in rows[1:]] == ["IP cameras"]
    # A link naming the other line's cases lists none of them.
    listed = client.get("/en/desk/cases/?metric=by:line:routers&m_from=2026-01-01&m_to=2026-04-15")
    assert listed.context["page"].paginator.count == 0


def test_anonymous_visitors_are_sent_to_sign_in(anonymous: Client) -> None:
    assert anonymous.get("/en/desk/metrics/").status_code == 302
    assert anonymous.get("/en/desk/metrics/durations.csv").status_code == 302


def _csv(response: object) -> list[list[str]]:
    body: bytes = response.content  # type: ignore[attr-defined]
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_is_utf8_with_bom_and_reads_chinese(as_lead: Client, history: History, frozen: None) -> None:
    response = as_lead.get(f"/zh-hans/desk/metrics/by-line.csv?{QUERY}")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["产品线", "工单"]  # the header in the page's language
    assert ["网络摄像机", "3"] in rows
    durations = _csv(as_lead.get(f"/en/desk/metrics/durations.csv?{QUERY}"))
    assert durations[1][:5] == ["Time to acknowledge", "business days", "4", "1", "5"]


def test_csv_keeps_formulas_as_text(as_lead: Client, history: History, frozen: None) -> None:
    history.cams.name_en = '=HYPERLINK("http://evil.test","x")'
    history.cams.save()
    rows = _csv(as_lead.get(f"/en/desk/metrics/by-line.csv?{QUERY}"))
    assert rows[1][0].startswith("'=")


@pytest.mark.parametrize("query", ["from=yesterday", "from=2026-05-01&to=2026-01-01", "line=nope", "severity=x"])
def test_bad_filters_say_what_to_change(as_lead: Client, history: History, query: str) -> None:
    page = as_lead.get(f"/en/desk/metrics/?{query}")
    assert page.status_code == 422
    assert 'role="alert"' in page.content.decode()
    assert as_lead.get(f"/en/desk/metrics/durations.csv?{query}").status_code == 422


def test_unknown_csv_table_is_404(as_lead: Client, history: History) -> None:
    assert as_lead.get("/en/desk/metrics/nope.csv").status_code == 404
