"""Form pieces of the shared kit.

Money: `MoneyField` / `MoneyInput`, amounts typed and shown in the user's format.

Forms people can correct, and forms laid out by who may change what.

Error summary (GOV.UK's pattern): at the top of a form with errors, "There is a
problem" and a list naming each invalid field, linking to it. `{% crispy form %}`
and `{{ form|crispy }}` draw it by themselves (templates/bootstrap5/errors.html);
a form laid out by hand draws it with `{% error_summary form %}`. The summary
takes the focus when the page (or the htmx fragment) arrives (static/concord/concord.js),
and any page with an invalid form is titled "Error: …" (`{% error_title_prefix %}` in base.html).

Editable first: `editable_first(form, sections, policy=…, editable=…)` lays out a
form from its sections (cards of crispy rows), keeping only the fields the user may
change, sections they may change first; the fields they may not change are listed
after them, with their values and who keeps them, instead of as disabled inputs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crispy_forms.layout import HTML, Div, Layout, LayoutObject
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.choices import flatten_choices

from core import formats
from core.money import format_amount
from core.permissions import FieldPolicy


class MoneyInput(forms.TextInput):
    """A text box for an amount: right-aligned tabular digits, the phone's decimal
    keypad (inputmode), and no number spinner, which cannot show grouping and
    steps the amount when the wheel scrolls over it."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", "class": "money-input", **(attrs or {})})


class MoneyField(forms.DecimalField):
    """An amount typed and shown in the user's format (core.formats).

    It shows the stored value as the lists do ("1.234,50" for de-DE, "1,234.50" for
    en-GB) and reads what is typed with core.formats.parse_number: the user's format
    first, else a plain decimal with a point ("1234.50"). So for de-DE "1.234" is
    1234 and "1,5" is 1.5; for en-GB "1,234.50" is 1234.50 and "1,5" is refused.
    max_digits, decimal_places and min_value/max_value apply as on DecimalField.
    """

    widget = MoneyInput

    def to_python(self, value):
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return Decimal(value)  # an initial value (a disabled field), not something typed
        if value in self.empty_values or not str(value).strip():
            return None
        try:
            return formats.parse_number(str(value))
        except ValueError:
            example = formats.format_number(Decimal("1234.50"), self.decimal_places or 0)
            raise ValidationError(
                f"Enter an amount as a number, e.g. {example}.", code="invalid", params={"value": value}
            ) from None

    def prepare_value(self, value):
        # A stored amount reads as elsewhere on the page; what someone typed (a
        # string, on a form with errors) is shown back exactly as typed.
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return formats.format_number(value, self.decimal_places)
        return value

    def widget_attrs(self, widget):
        # DecimalField adds step/min/max for a number input only; this is a text box.
        return forms.Field.widget_attrs(self, widget)


NO_VALUE = "—"


class SearchableSelect(forms.Select):
    """A <select> that static/concord/concord.js turns into a combobox people can type
    into to filter its options by name or code (ARIA 1.2 combobox). Without
    JavaScript it stays the native select, which works as it is."""

    def __init__(self, attrs=None, choices=()):
        super().__init__({"data-searchable": "", **(attrs or {})}, choices)


# --- error summary --------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    target: str  # the id of the element to focus, "" for a field that is not shown
    label: str
    message: str


def error_summary(form: forms.BaseForm) -> dict[str, Any]:
    """What the summary lists: the form's own errors, then each field's, in the
    order the fields are shown (Form.order_fields), each linking to its field."""
    field_errors = []
    for bound_field in form:
        for message in bound_field.errors:
            target = "" if bound_field.is_hidden else bound_field.id_for_label
            field_errors.append(FieldError(target, str(bound_field.label or bound_field.name), message))
    return {
        "non_field_errors": list(form.non_field_errors()),
        "field_errors": field_errors,
        "summary_id": f"{form.prefix or type(form).__name__.lower()}-error-summary",
    }


def drop_autofocus(form: forms.BaseForm) -> None:
    """While the error summary is shown it takes the focus: a field's autofocus
    would pull it away again (browsers and htmx both honour the attribute)."""
    for field in form.fields.values():
        field.widget.attrs.pop("autofocus", None)


def forms_with_errors(values) -> bool:
    """Is any of `values` a bound form or formset with errors?"""
    for value in values:
        if isinstance(value, forms.BaseForm) and value.is_bound and value.errors:
            return True
        if isinstance(value, forms.BaseFormSet) and value.is_bound and value.total_error_count():
            return True
    return False


# --- sections, editable first -----------------------------------------------------


class FormSection:
    """A card of a form: a title, its icon (`icon("building", "icon-fw me-1")`, written
    out so build_icons finds the name) and crispy rows (Row(Column("name"), …)).

    A row's cells are laid out as given; `layout(shown)` keeps only the cells whose
    fields are all in `shown`, and the rows that still hold a cell."""

    def __init__(self, title: str, icon_markup: str, *rows: LayoutObject):
        self.title, self.icon_markup, self.rows = title, icon_markup, rows

    @property
    def fields(self) -> list[str]:
        return [pointer.name for pointer in Layout(*self.rows).get_field_names()]

    def layout(self, shown: frozenset[str]) -> Div | None:
        kept_rows = []
        for row in self.rows:
            cells = [cell for cell in row.fields if _names(cell) <= shown]
            if cells:
                kept = copy.copy(row)  # the same row (classes, attributes) with fewer cells
                kept.fields = cells
                kept_rows.append(kept)
        if not kept_rows:
            return None
        return Div(
            HTML(f'<h2 class="card-header h6 mb-0">{self.icon_markup}{self.title}</h2>'),
            Div(*kept_rows, css_class="card-body"),
            css_class="card form-section mb-3",
        )


def _names(cell) -> set[str]:
    if isinstance(cell, str):
        return {cell}
    return {pointer.name for pointer in cell.get_field_names()}


@dataclass(frozen=True)
class ReadOnlyGroup:
    """Fields of one FieldGroup the user may not change, as the form lists them."""

    label: str
    reason: str
    values: list[tuple[str, str]]  # (field label, value as shown)


def editable_first(
    form: forms.BaseForm, sections: list[FormSection], *, policy: FieldPolicy, editable: frozenset[str]
) -> Layout:
    """A crispy Layout of `sections` for one user: the sections holding fields they
    may change first (in declared order) with only those fields, then the fields of
    `policy` they may not change as a read-only summary, grouped by who keeps them.

    The read-only fields stay in the form, disabled, so a value posted for one is
    still seen (and refused) as a change; they are just not drawn as inputs. The
    form's fields are re-ordered as shown, so its error summary follows the page.
    """
    shown = frozenset(name for name in form.fields if name in editable or name not in policy.fields)
    layouts = [section.layout(shown) for section in sections]
    ordered = [name for section in sections for name in section.fields]
    read_only = [name for name in ordered if name in policy.fields and name not in editable]
    groups: dict[str, ReadOnlyGroup] = {}
    for name in read_only:
        group = policy.group_of(name)
        entry = groups.setdefault(group.name, ReadOnlyGroup(group.label, group.reason, []))
        entry.values.append((str(form.fields[name].label or name), shown_value(form, name)))
    form.read_only_groups = list(groups.values())
    form.order_fields([name for name in ordered if name in shown] + read_only)
    parts = [part for part in layouts if part is not None]
    if form.read_only_groups:
        parts.append(HTML('{% include "core/read_only_fields.html" %}'))
    return Layout(*parts)


def shown_value(form: forms.BaseForm, name: str) -> str:
    """A field's current value as a person reads it: a choice by its label, a
    record by its name, an amount grouped; "—" when empty."""
    field = form.fields[name]
    value = form.get_initial_for_field(field, name)
    if value in (None, "", [], ()):
        return NO_VALUE
    if isinstance(field, forms.ModelChoiceField):
        record = value if isinstance(value, models.Model) else _related(form, name, value)
        return field.label_from_instance(record) if record is not None else NO_VALUE
    if isinstance(field, forms.ChoiceField):
        labels = {str(key): label for key, label in flatten_choices(field.choices)}
        return str(labels.get(str(value), value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(field, MoneyField):
        return field.prepare_value(value)  # in the user's format, as the input would show it
    if isinstance(value, Decimal):
        return format_amount(value)
    return str(value)


def _related(form: forms.BaseForm, name: str, pk) -> models.Model | None:
    instance = getattr(form, "instance", None)
    if instance is not None and getattr(instance, f"{name}_id", None) == pk:
        return getattr(instance, name)  # already loaded with the record, usually
    return form.fields[name].queryset.filter(pk=pk).first()
