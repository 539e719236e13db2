"""Form fields shared by every instance of a form class (`psirt.lib.forms.share_fields`)."""

from __future__ import annotations

from django import forms

from psirt.lib.forms import share_fields


class _Form(forms.Form):
    name = forms.CharField(max_length=10)
    upload = forms.FileField(required=False)


share_fields(_Form)


def test_instances_share_the_class_fields_but_not_the_mapping() -> None:
    first, second = _Form({"name": "a"}), _Form({"name": "b"})
    assert first.fields["name"] is second.fields["name"] is _Form.base_fields["name"]
    first.fields.pop("name")
    assert "name" in second.fields and "name" in _Form.base_fields


def test_a_widget_that_keeps_request_state_is_copied_per_form() -> None:
    ticked = _Form({"name": "a", "upload-clear": "on"})
    assert ticked.is_valid()
    other = _Form({"name": "b"})
    assert ticked.fields["upload"] is not _Form.base_fields["upload"] is not other.fields["upload"]
    # The "clear" box ticked in one request is that form's alone.
    assert ticked.fields["upload"].widget.checked is True
    assert "checked" not in vars(_Form.base_fields["upload"].widget)
    assert "checked" not in str(other["upload"])


def test_validation_is_unchanged() -> None:
    form = _Form({"name": "x" * 11})
    assert not form.is_valid()
    assert form.errors["name"] == ["Ensure this value has at most 10 characters (it has 11)."]
