"""The table base every list page builds on (django-tables2)."""

import inspect
from functools import cache, lru_cache, partialmethod

import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import EmptyPage, Page, Paginator
from django.db import models
from django.db.models import Count, Window
from django.template import Context
from django.template.base import render_value_in_context
from django.templatetags.l10n import localize, unlocalize
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django_tables2.paginators import LazyPaginator
from django_tables2.rows import BoundPinnedRow
from django_tables2.utils import Accessor, call_with_appropriate, signature

from .cache import cached_result, generation

MAX_PER_PAGE = 100
# Bootstrap's classes for a cell shown from the md breakpoint (768 px) up.
HIDDEN_ON_PHONES = "d-none d-md-table-cell"

# The arguments django-tables2 may pass to a render_<name> method (BoundRow._optional_cell_arguments).
_CELL_ARGUMENTS = ("value", "record", "column", "bound_column", "bound_row", "table")


class CappedPaginator(LazyPaginator):
    """Pages without counting (a COUNT over 100,000 rows cost more than the rest of the
    page; a list shows the count after load instead), looking a page ahead, and
    honours ?per_page= between 1 and MAX_PER_PAGE, so nobody asks for 100,000 rows at once."""

    look_ahead = 1

    def __init__(self, object_list, per_page, *args, **kwargs):
        super().__init__(object_list, max(1, min(int(per_page), MAX_PER_PAGE)), *args, **kwargs)

    def validate_number(self, number):
        number = super().validate_number(number)
        # No list has rows past a 64-bit OFFSET, and asking the database for them fails
        # (PostgreSQL: bigint out of range); such a page is simply not there.
        if (number + self.look_ahead) * self.per_page + self.orphans >= 2**63:
            raise EmptyPage("That page contains no results")
        return number


# From this many rows down, a page's rows are found by id first (deep_paging).
DEEP_OFFSET = 1000


class _DeepPaging:
    """Slicing a page far down the list (`[10000:10026]`) finds the page's ids with the
    list's filters and order alone (`WHERE id IN (SELECT id … ORDER BY … LIMIT 26
    OFFSET 10000)`), then reads only those rows with their joins: a plain OFFSET joins
    every skipped row first (page 400 of 1M invoices: 33 ms of SQL, 3 this way). Same
    rows, same order, one query."""

    def __getitem__(self, key):
        if isinstance(key, slice) and (key.start or 0) >= DEEP_OFFSET and self.query.can_filter():
            ids = models.QuerySet.__getitem__(self.values("pk"), key)
            return models.QuerySet.__getitem__(self.filter(pk__in=models.Subquery(ids)), slice(None))
        return super().__getitem__(key)


@cache
def _deep_paging_class(queryset_class: type) -> type:
    return type(f"DeepPaging{queryset_class.__name__}", (_DeepPaging, queryset_class), {})


def deep_paging(queryset):
    """`queryset` whose deep pages are read by id first (see _DeepPaging); list pages'
    tables get it from core.lists.ListPageMixin."""
    if not isinstance(queryset, models.QuerySet) or isinstance(queryset, _DeepPaging):
        return queryset
    clone = queryset.all()
    clone.__class__ = _deep_paging_class(type(queryset))
    return clone


class FastRowsTable(tables.Table):
    """A django-tables2 table whose body rows are rendered in Python, with the same
    HTML as django-tables2's own template.

    django-tables2 renders each cell through the template engine (a loop over
    columns, attributes and `{{ cell }}` per cell), which made 25 rows cost most of a
    list page's time. Here each row is one string join. The header, sorting,
    pagination and footer stay django-tables2's; so does every cell's value:

    - a plain `Column` (no `linkify`, no `localize`, attributes without callables)
      is rendered on a plan made once per table: its accessor, choice label
      (`get_<field>_display`), `default` for empty values, its `render_<name>`
      method, and `{{ cell }}`'s escaping and localisation (dates, numbers);
    - every other column (linkify, BooleanColumn, DateColumn, TemplateColumn,
      callable attributes, localize…) and pinned rows get django-tables2's own
      cell (`BoundRow.get_cell`), so nothing is rendered differently, only faster
      where it is safe.

    Use it as a base class and print `table.rendered_rows` in the template's
    `table.tbody` block: `Meta.template_name = "core/fast_table.html"`. Every
    subclass is checked against django-tables2's rendering by
    tests/core/test_fast_paths.py.

    What every list gets from declaring three class attributes:

    - `optional_columns`: columns shown only to people who chose them in the list's
      column chooser (core.lists); the choice is kept per person in
      `User.list_columns[columns_key]`. Pass the chosen names as `chosen_columns=`;
      the others are left out of the table (and out of its query, see
      `prepare_queryset`).
    - `phone_columns`: the few columns a phone shows (below 768 px); the others get
      HIDDEN_ON_PHONES, so a list reads without scrolling sideways. Empty: all.
    """

    optional_columns: tuple[str, ...] = ()
    phone_columns: tuple[str, ...] = ()
    columns_key = ""  # e.g. "crm.customer"

    def __init__(self, *args, chosen_columns=(), **kwargs):
        left_out = [name for name in self.optional_columns if name not in chosen_columns]
        if left_out:
            kwargs["exclude"] = (*(kwargs.get("exclude") or self._meta.exclude or ()), *left_out)
        super().__init__(*args, **kwargs)
        if self.phone_columns:
            for bound in self.columns:
                if bound.name not in self.phone_columns:
                    _hide_on_phones(self, bound.column)

    @classmethod
    def chosen_columns(cls, user) -> list[str]:
        """The optional columns `user` chose for this list, in the table's order;
        names the table does not offer (a column since removed, a hand-made value)
        are ignored."""
        columns = getattr(user, "list_columns", None)
        saved = columns.get(cls.columns_key) if cls.columns_key and isinstance(columns, dict) else None
        if not isinstance(saved, list):
            return []
        return [name for name in cls.optional_columns if name in saved]

    @classmethod
    def optional_column_labels(cls) -> list[tuple[str, str]]:
        """(name, label) of each optional column, for the column chooser."""
        return [
            (name, str(cls.base_columns[name].verbose_name or name.replace("_", " ").capitalize()))
            for name in cls.optional_columns
        ]

    @classmethod
    def prepare_queryset(cls, queryset, chosen_columns):
        """The rows' queryset with whatever the chosen optional columns read beyond
        the row (an annotation, a join): one query for the page whichever are shown."""
        return queryset

    def rendered_rows(self):
        context = Context(autoescape=True)
        plans = [_CellPlan(self, bound) for bound in self.columns]  # visible columns, in order
        plain_rows = not self.row_attrs
        for row in self.paginated_rows:
            if isinstance(row, BoundPinnedRow):
                cells = [_stock_cell(row, plan, context) for plan in plans]
            else:
                cells = [plan.cell(row, context) for plan in plans]
            attrs = f'class="{row.get_even_odd_css_class()}"' if plain_rows else row.attrs.as_html()
            yield mark_safe(f"<tr {attrs}>" + "".join(cells) + "</tr>")  # noqa: S308 -- cells are escaped


def _hide_on_phones(table: tables.Table, column: tables.Column) -> None:
    """Add HIDDEN_ON_PHONES to a column's header and cells (this table's copy of the
    column: django-tables2 copies the declared columns for every table)."""
    merged = {**dict(table.attrs), **dict(column.attrs)}
    cell = merged.get("cell", {})
    attrs = dict(column.attrs)
    for part in ("th", "td"):
        part_attrs = dict(merged.get(part, cell))
        existing = part_attrs.get("class", "")
        if callable(existing):
            part_attrs["class"] = lambda existing=existing, **kwargs: (
                f"{call_with_appropriate(existing, kwargs) or ''} {HIDDEN_ON_PHONES}".strip()
            )
        else:
            part_attrs["class"] = f"{existing} {HIDDEN_ON_PHONES}".strip()
        attrs[part] = part_attrs
    column.attrs = attrs


class _CellPlan:
    """How one column's cells are rendered, decided once per table."""

    def __init__(self, table: tables.Table, bound):
        self.bound, self.column = bound, bound.column
        td = bound.column.attrs.get("td", bound.column.attrs.get("cell", {}))
        table_td = table.attrs.get("td", table.attrs.get("cell", {}))
        self.static_attrs = not any(callable(v) for v in (*dict(td).values(), *dict(table_td).values()))
        self.td = _td(bound.attrs["td"].as_html()) if self.static_attrs else None
        self.accessor = Accessor(bound.accessor)
        self.default = bound.default
        self.render = bound.render  # the table's render_<name>, else the column's render
        self.arguments = _render_arguments(self.render)
        self.fast = (
            type(bound.column) is tables.Column
            and not bound.link
            and bound.column.localize is None
            and self.static_attrs
            # Dotted accessors reach other models (choices, missing relations): django-tables2's cell.
            and len(self.accessor.bits) == 1
            and set(self.arguments) <= set(_CELL_ARGUMENTS)
        )
        self._displays = {}  # record class → "get_<field>_display" or None

    def _display(self, record):
        """How to show the column's value for this kind of record: django-tables2 shows
        a choice field's label (`Prospect`), not its value (`prospect`), through
        `get_<field>_display`. Returns None (no choices), the method's name (overridden
        by the model), or the field and its choices, read as Django's own
        `_get_FIELD_display` reads them but with the choices mapped once per table."""
        cls = type(record)
        if cls not in self._displays:
            display = None
            if isinstance(record, models.Model):
                name = f"get_{self.accessor.bits[0]}_display"
                try:
                    field = cls._meta.get_field(self.accessor.bits[0])
                except FieldDoesNotExist:
                    field = None
                if field is not None and getattr(field, "choices", None) and hasattr(record, name):
                    stock = (
                        isinstance(inspect.getattr_static(cls, name), partialmethod)
                        and cls._get_FIELD_display is models.Model._get_FIELD_display
                    )
                    display = (field.attname, dict(make_hashable(field.flatchoices))) if stock else name
            self._displays[cls] = display
        return self._displays[cls]

    def cell(self, row, context) -> str:
        if not self.fast:
            return _stock_cell(row, self, context)
        record = row.record
        display = self._display(record)
        if type(display) is tuple:
            attname, choices = display
            raw = getattr(record, attname)
            value = force_str(choices.get(make_hashable(raw), raw), strings_only=True)
        elif display is not None:
            value = getattr(record, display)()
        else:
            try:
                value = self.accessor.resolve(record)
            except Exception:  # as django-tables2: a value that cannot be read is empty
                value = None
        if value in self.column.empty_values:
            content = self.default
        elif self.arguments == ("value", "record"):
            content = self.render(value=value, record=record)
        else:
            available = row._optional_cell_arguments(self.bound, value)
            content = self.render(**{name: available[name] for name in self.arguments})
        return f"{self.td}{_as_template_would(content, context)}</td>"


@lru_cache(maxsize=1024)
def _method_arguments(function) -> tuple[str, ...]:
    arguments, catch_all = signature(function)
    return _CELL_ARGUMENTS if catch_all else tuple(arguments[1:])  # without self


def _render_arguments(render) -> tuple[str, ...]:
    """The arguments django-tables2 passes to a render method (it inspects the
    signature for every cell; here once per method)."""
    if inspect.ismethod(render):
        return _method_arguments(render.__func__)
    arguments, catch_all = signature(render)
    return _CELL_ARGUMENTS if catch_all else tuple(arguments)


def _as_template_would(value, context) -> str:
    """`{{ value }}` with autoescaping: strings need only escaping (which is all the
    template engine does to them); anything else goes the engine's way (local time,
    localised numbers and dates, str())."""
    if type(value) is SafeString:
        return value
    if type(value) is str:
        return escape(value)
    return render_value_in_context(value, context)


def _td(attrs: str) -> str:
    return f"<td {attrs}>" if attrs else "<td>"


def _stock_cell(row, plan: _CellPlan, context) -> str:
    """The cell exactly as django-tables2's template renders it."""
    bound = plan.bound
    value = row.get_cell(bound.name)
    # As BoundRow.items(): callable attributes see the cell's value and record.
    bound.current_value, bound.current_record = value, row.record
    td = plan.td if plan.static_attrs else _td(bound.attrs["td"].as_html())
    if bound.localize is True:
        value = localize(value)
    elif bound.localize is False:
        value = unlocalize(value)
    return f"{td}{_as_template_would(value, context)}</td>"


class _CountedPaginator(Paginator):
    """A Paginator told its count (by counted_page) instead of asking the database."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


def _page_number(number) -> int:
    try:
        return max(int(number), 1)
    except (TypeError, ValueError):
        return 1


def _counted_rows(queryset, number: int, per_page: int) -> tuple[int, int, list]:
    """(page number, row count, the page's rows) for counted_page."""
    counted = queryset.annotate(_counted_total=Window(Count("*")))

    def rows_of(page_number: int) -> list:
        start = (page_number - 1) * per_page
        return list(counted[start : start + per_page]) if start + per_page < 2**63 else []

    rows = rows_of(number)
    if rows:  # the usual case: one query
        first = rows[0]
        total = first["_counted_total"] if isinstance(first, dict) else first._counted_total
    elif number == 1:
        total = 0
    else:  # past the end: the last page
        total = queryset.count()
        number = max(1, -(-total // per_page))
        rows = rows_of(number) if total else []
    return number, total, rows


def counted_page(queryset, number, per_page: int, *, cache_as: str = "", depends_on=()) -> Page:
    """Page `number` of `queryset` (Paginator.get_page's leniency: junk or below 1 is
    page 1, past the end is the last page) and how many rows there are, in one query:
    `COUNT(*) OVER ()` rides along with the page's rows. For lists that must show their
    count and whose rows are an aggregate (one per customer over 100,000 invoices): a
    separate COUNT would aggregate them all a second time. A second query only for a
    page past the end.

    `cache_as`: the page (its rows and count, not the queryset) is kept in the cache
    under that name until a row of the queryset's model, or of a model in `depends_on`,
    changes (core.cache): for an aggregate that costs more than the rest of the page."""
    number = _page_number(number)
    if cache_as:
        name = ":".join([cache_as, str(number), *(str(generation(model)) for model in depends_on)])
        number, total, rows = cached_result(queryset, name, lambda: _counted_rows(queryset, number, per_page))
    else:
        number, total, rows = _counted_rows(queryset, number, per_page)
    return Page(rows, number, _CountedPaginator(queryset, per_page, total))
