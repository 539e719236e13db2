"""The report form's bound fields work out their names, label and help text when read
(`psirt.lib.forms.LazyBoundField`), with the values Django's own give."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django import forms
from django.forms.boundfield import BoundField
from django.utils import translation

from psirt.intake.forms import ReportForm
from psirt.lib.forms import LazyBoundField

READ = ("html_name", "html_initial_name", "html_initial_id", "label", "help_text", "auto_id", "id_for_label")


def _as_django_makes_it(form: forms.BaseForm, name: str) -> BoundField:
    return BoundField(form, form.fields[name], name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "options",
    [{}, {"prefix": "r"}, {"auto_id": False}, {"auto_id": "field-%s"}, {"auto_id": "plain"}],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_field_reads_what_djangos_bound_field_gives(options: dict[str, Any], language: str) -> None:
    with translation.override(language):
        form = ReportForm({"reporter_name": "Ana"}, **options)
        for name in form.fields:
            lazy, eager = form[name], _as_django_makes_it(form, name)
            assert type(lazy) is LazyBoundField
            for attribute in READ:
                assert str(getattr(lazy, attribute)) == str(getattr(eager, attribute)), (name, attribute)
            assert lazy.data == eager.data and str(lazy) == str(eager) and lazy.label_tag() == eager.label_tag()


def test_a_label_and_help_text_stay_lazy_in_the_language_they_are_shown_in() -> None:
    form = ReportForm({})
    bound = form["reporter_email"]
    with translation.override("en"):
        english = str(bound.help_text), str(bound.label)
    with translation.override("zh-hans"):
        chinese = str(bound.help_text), str(bound.label)
    assert english != chinese and english[0] == "We write to you here. It is never published."
    assert form["website"].label == ReportForm.base_fields["website"].label  # set: kept as given
    assert form["organization"].help_text == ""  # no help text


def test_validating_reads_only_what_cleaning_needs() -> None:
    """Cleaning a report's fields works out no field's label, help text or initial names (a rendering does)."""
    with (
        mock.patch.object(forms.Form, "add_initial_prefix", side_effect=AssertionError("initial name")),
        mock.patch("psirt.lib.forms.pretty_name", side_effect=AssertionError("label")),
    ):
        form = ReportForm({"reporter_name": "Ana", "reporter_email": "not an address"})
        form.is_valid()
        assert "reporter_email" in form.errors
    for name in form.fields:
        assert not {"label", "help_text", "html_initial_name", "html_initial_id"} & vars(form[name]).keys(), name
