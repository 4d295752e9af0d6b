"""core.forms.MoneyField: amounts typed and shown in the user's format."""

from decimal import Decimal

import pytest
from django import forms

from core import formats
from core.forms import MoneyField
from tests.html import parse


class LimitForm(forms.Form):
    limit = MoneyField(max_digits=14, decimal_places=2, min_value=0, required=False)


def cleaned(typed, locale="de-DE"):
    with formats.override(locale):
        form = LimitForm({"limit": typed})
        return form.cleaned_data["limit"] if form.is_valid() else form.errors["limit"]


def rendered_input(initial=None, data=None, locale="de-DE"):
    with formats.override(locale):
        form = LimitForm(data, initial={"limit": initial})
        return parse(str(form["limit"])).find(tag="input")


@pytest.mark.parametrize(
    ("locale", "stored", "shown"),
    [
        ("de-DE", Decimal("1234.5"), "1.234,50"),
        ("en-US", Decimal("1234.5"), "1,234.50"),
        ("fr-FR", Decimal("1234567"), "1\u202f234\u202f567,00"),
        ("de-CH", Decimal("1234.5"), "1'234.50"),
    ],
)
def test_a_stored_amount_is_shown_grouped_and_read_back_unchanged(locale, stored, shown):
    field = rendered_input(initial=stored, locale=locale)
    assert field.attrs["value"] == shown
    assert cleaned(shown, locale) == stored


def test_the_box_is_a_right_aligned_text_box_with_the_decimal_keypad():
    field = rendered_input(initial=Decimal("1"))
    assert field.attrs["type"] == "text"
    assert field.attrs["inputmode"] == "decimal"
    assert "money-input" in field.classes
    assert "step" not in field.attrs  # no number spinner stepping the amount


def test_what_was_typed_is_shown_back_as_typed_on_an_error():
    assert rendered_input(data={"limit": "12 Äpfel"}).attrs["value"] == "12 Äpfel"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1.234", Decimal("1234")),  # well-formed German: the point groups
        ("1,5", Decimal("1.5")),
        ("1234.50", Decimal("1234.50")),  # not German, but a plain decimal
        ("1.5", Decimal("1.5")),
        ("", None),
        ("  ", None),
    ],
)
def test_german_entries_follow_the_documented_rule(typed, expected):
    assert cleaned(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12 Äpfel", "Enter an amount as a number, e.g. 1.234,50."),
        ("NaN", "Enter an amount as a number, e.g. 1.234,50."),
        ("1,234.50", "Enter an amount as a number, e.g. 1.234,50."),
        ("1,555", "Ensure that there are no more than 2 decimal places."),
        ("-1", "Ensure this value is greater than or equal to 0."),
        ("9" * 20, "Ensure that there are no more than 14 digits in total."),
    ],
)
def test_junk_and_out_of_range_amounts_are_refused_with_a_clear_message(typed, message):
    assert cleaned(typed) == [message]


def test_an_english_user_gets_an_english_example():
    assert cleaned("1,5", "en-US") == ["Enter an amount as a number, e.g. 1,234.50."]


def test_a_disabled_field_keeps_its_stored_amount():
    class ReadOnlyForm(forms.Form):
        limit = MoneyField(max_digits=14, decimal_places=2, disabled=True)

    with formats.override("de-DE"):
        form = ReadOnlyForm({"limit": "999"}, initial={"limit": Decimal("10000.00")})
        assert form.is_valid()
        assert form.cleaned_data["limit"] == Decimal("10000.00")
        assert not form.has_changed()
