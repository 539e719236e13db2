"""The environmental calculator: its scores equal psirt.lib.cvss (FIRST's) for the conformance vectors, and
the plain GET form keeps the vector in the URL."""

from __future__ import annotations

import csv

import pytest
from django.test import Client

from psirt.accounts.models import User
from psirt.advisories.models import Advisory
from psirt.advisories.tests.conftest import revise
from psirt.advisories.views.environmental import calculators_for, combined_vector, env_metrics
from psirt.advisories.views.presenters import score_view
from psirt.lib.cvss import parse_vector, score_vector
from psirt.tests.conformance import CVSS

CVSS_DIR = CVSS / "generated"
SAMPLE = 300


def _rows(name: str) -> list[dict[str, str]]:
    with open(CVSS_DIR / name, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))[:SAMPLE]


def _split(vector: str) -> tuple[str, str]:
    """(published part: base and temporal/threat metrics, the full vector as a shared ?env=)."""
    version = vector.split("/", 1)[0][5:]
    env = {m.key for m in env_metrics(version)}
    parts = [p for p in vector.split("/")[1:] if p.split(":")[0] not in env]
    return f"CVSS:{version}/" + "/".join(parts), vector


class _Params(dict):
    def getlist(self, key: str) -> list[str]:
        value = self.get(key)
        return [value] if value else []


@pytest.mark.parametrize(
    "name,column", [("cvss31_bte_random10000.tsv", "environmental"), ("cvss40_bte_random10000.tsv", "score")]
)
def test_environmental_scores_equal_first(name: str, column: str) -> None:
    checked = 0
    for row in _rows(name):
        published, shared = _split(row["vector"])
        score = score_view(published)
        assert score is not None
        [calc] = calculators_for([score], _Params(env=shared))
        assert not calc.error, (row["vector"], calc.error)
        if calc.result is None:
            # Every environmental metric was "Not Defined": the environmental score is the published one.
            assert score_vector(row["vector"]).environmental == float(row[column])
            continue
        assert calc.result.environmental == float(row[column]), row["vector"]
        assert calc.result.environmental == score_vector(row["vector"]).environmental
        checked += 1
    assert checked > SAMPLE * 0.9


def test_shared_vector_cannot_change_the_published_base_metrics() -> None:
    published = score_view("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    assert published is not None
    [calc] = calculators_for([published], _Params(env="CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N/CR:L"))
    assert calc.result is not None
    assert parse_vector(calc.result.vector)["AV"] == "N"
    assert calc.result.vector == combined_vector(published.result.vector, {"CR": "L"})


@pytest.mark.parametrize(
    "env", ["CVSS:3.1/AV:N/XX:Y", "x" * 5000, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:Q", "<script>"]
)
def test_bad_shared_vectors_get_a_message_not_a_crash(published: Advisory, anonymous: Client, env: str) -> None:
    response = anonymous.get(published.get_absolute_url(), {"env": env})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>" not in html.split('id="environmental"', 1)[1]


def test_plain_get_form_redirects_to_a_shareable_url(published: Advisory, anonymous: Client) -> None:
    url = published.get_absolute_url()
    response = anonymous.get(url, {"calc": "3.1", "v31_CR": "H", "v31_MAV": "L", "v31_MPR": "X"})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(url + "?env=CVSS:3.1/")
    assert "CR:H" in location and "MAV:L" in location and "MPR" not in location
    page = anonymous.get(location).content.decode()
    expected = score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:H/MAV:L")
    assert f'<strong class="env-score">{expected.environmental}</strong>' in page
    assert expected.vector in page
    assert '<option value="H" selected>' in page


def test_both_versions_are_kept_in_the_url(published: Advisory, lead: User, anonymous: Client) -> None:
    v40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    revise(advisory=published, actor=lead, changes={"cvss40_vector": v40}, revision_summary_en="CVSS 4.0 added.")
    url = published.get_absolute_url()
    first = anonymous.get(url, {"calc": "4.0", "v40_CR": "L"})["Location"]
    page = anonymous.get(first).content.decode()
    # The 3.1 form carries the 4.0 result as a hidden env: submitting it keeps both.
    assert f'name="env" value="{v40}/CR:L"' in page
    second = anonymous.get(url, {"calc": "3.1", "v31_AR": "H", "env": f"{v40}/CR:L"})["Location"]
    assert second.count("env=") == 2


def test_the_form_is_kept_per_calculators_and_language_and_follows_each_request(
    published: Advisory, lead: User, anonymous: Client
) -> None:
    """The calculator form is rendered once per set of calculators and language: each answer still shows its own
    vector's result, the plain page shows none, and each language its own labels."""
    url = published.get_absolute_url()
    first = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:L/IR:L/AR:L"
    second = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MAV:P"
    for _round in range(2):  # the second round is answered from what the first kept
        for env in (first, second):
            expected = score_vector(env)
            page = anonymous.get(url, {"env": env}).content.decode()
            form = page.split('id="environmental"', 1)[1]
            assert f'<strong class="env-score">{expected.environmental}</strong>' in form
            assert f'<p class="mono small env-vector">{expected.vector}</p>' in form
        plain = anonymous.get(url).content.decode().split('id="environmental"', 1)[1]
        assert "env-score" not in plain and " selected>" not in plain.split("</section>", 1)[0].replace(
            '<option value="X" selected>', ""
        )
    english = anonymous.get(url).content.decode()
    chinese = anonymous.get(url.replace("/en/", "/zh-hans/", 1)).content.decode()
    assert "Score for your environment" in english and "Score for your environment" not in chinese
    # Another published vector, the same environmental choices: the next answer scores the new vector.
    v31 = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"
    revise(advisory=published, actor=lead, changes={"cvss31_vector": v31}, revision_summary_en="Rescored.")
    expected = score_vector(v31 + "/MAV:P")
    page = anonymous.get(url, {"env": second}).content.decode()
    assert f'<strong class="env-score">{expected.environmental}</strong>' in page and expected.vector in page
    # A second vector adds its calculator on the next request.
    v40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    revise(advisory=published, actor=lead, changes={"cvss40_vector": v40}, revision_summary_en="CVSS 4.0 added.")
    assert 'id="env-40"' in anonymous.get(url).content.decode()
