"""What every list page shares beyond its table (core.tables).

A list never answers a hand-edited URL with an error page: a page that does not
exist shows the first page with a notice, and an invalid filter is shown as an
error on that filter instead of as "nothing matches". A list remembers how it was
left, so the breadcrumb of a record leads back to the same filters, and shows the
optional columns each person chose (ListPageMixin).
"""

from django import forms
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from .cache import cached_result, peek_result
from .csv import csv_response
from .tables import deep_paging


def missing_page_notice(request: HttpRequest, table) -> str:
    """A sentence for the page when `?page=` asked for a page the list does not have
    (past the end, below 1, not a number); "" when the page shown is the one asked for."""
    asked = request.GET.get(table.prefixed_page_field, "").strip()
    page = getattr(table, "page", None)
    if not asked or page is None:
        return ""
    try:
        if int(asked) == page.number:
            return ""
    except ValueError:
        pass
    if len(asked) > 30:
        asked = asked[:30] + "…"
    shown = "the first page" if page.number == 1 else f"page {page.number}"
    return f"There is no page {asked} of this list; here is {shown}."


def mark_invalid_filters(form: forms.Form, *, always_shown: tuple[str, ...]) -> list[str]:
    """Mark the filters whose value was refused (Bootstrap's `is-invalid`) and return
    the names of the fields the filter bar must show: those it always shows, plus any
    other filter that was given in the URL (so its value, or its error, is visible)."""
    shown = []
    for name, field in form.fields.items():
        bound = form[name]
        if name in always_shown or bound.errors or bound.data not in (None, ""):
            shown.append(name)
        if bound.errors:
            classes = field.widget.attrs.get("class", "form-control").split()
            field.widget.attrs["class"] = " ".join([*classes, "is-invalid"])
        elif name not in always_shown:
            field.widget.attrs.setdefault("class", "form-control")
    return shown


# --- Coming back to a list as it was left -------------------------------------------
# Parameters that ask for another answer than the page itself; never remembered.
_NOT_REMEMBERED = ("_part", "_export")
# A querystring longer than this is not worth a session write (nobody picks that many filters).
_MAX_REMEMBERED = 1000


def remember_list_query(request: HttpRequest, key: str) -> None:
    """Keep the list's querystring (filters, search, sort, page) in the session under
    `key` (the list's URL name), so links back to the list (`{% list_url key %}`)
    return to it as it was left. The session is written only when it changed."""
    params = request.GET.copy()
    for name in _NOT_REMEMBERED:
        params.pop(name, None)
    query = params.urlencode()
    if len(query) > _MAX_REMEMBERED:
        return
    remembered = request.session.get("list_queries", {})
    if remembered.get(key, "") != query:
        request.session["list_queries"] = {**remembered, key: query}


def list_url(request: HttpRequest | None, key: str) -> str:
    """The list's URL with the querystring it was last shown with in this session."""
    url = reverse(key)
    query = request.session.get("list_queries", {}).get(key, "") if request is not None else ""
    return f"{url}?{query}" if query else url


# --- Optional columns -------------------------------------------------------------


def save_list_columns(*, user, table_class, columns: list[str]) -> list[str]:
    """Remember which optional columns of `table_class` the user wants to see. Names
    the table does not offer are ignored (a hand-made request, a column since
    removed); returns the columns now chosen."""
    chosen = [name for name in table_class.optional_columns if name in columns]
    # A value that is not a mapping (set by hand in the admin) is replaced, not merged.
    saved = user.list_columns if isinstance(user.list_columns, dict) else {}
    user.list_columns = {**saved, table_class.columns_key: chosen}
    user.save(update_fields=["list_columns"])
    return chosen


class ListPageMixin:
    """What every list page does besides its own filters (with SingleTableMixin and
    django-filter's FilterView):

    - remembers its querystring for the way back (`list_key`, its URL name);
    - shows the optional columns the user chose, and saves a new choice posted by
      the column chooser (`includes/list_columns.html`), then shows the list again."""

    list_key = ""

    def get(self, request, *args, **kwargs):
        remember_list_query(request, self.list_key)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        save_list_columns(user=request.user, table_class=self.table_class, columns=request.POST.getlist("columns"))
        return redirect(request.get_full_path())

    @cached_property
    def chosen_columns(self) -> list[str]:
        return self.table_class.chosen_columns(self.request.user)

    def get_table_data(self):
        return deep_paging(self.table_class.prepare_queryset(super().get_table_data(), self.chosen_columns))

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "chosen_columns": self.chosen_columns}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["column_choices"] = [
            (name, label, name in self.chosen_columns) for name, label in self.table_class.optional_column_labels()
        ]
        return context


def active_filter_count(form: forms.Form, *, exclude: tuple[str, ...] = ()) -> int:
    """How many filters of the bar are set: "Filters (2)" on the button that opens
    the bar on a phone."""
    return sum(1 for name in form.fields if name not in exclude and form[name].data not in (None, "", []))


class FilteredListMixin:
    """A filtered list's two other answers besides its page (with SingleTableMixin and
    django-filter's FilterView), for exactly the filtered, sorted set:

    - `?_export=csv`: a CSV of `csv_columns` (header → column read straight from the
      database with values_list, so 100,000 rows never become 100,000 instances);
    - `?_part=summary`: the `summary` partial of the page's template, with what
      `summarize(queryset)` returns (a count and totals). Counting and summing a big
      book cost more than the rest of the page together, so the page asks for it
      afterwards (htmx, on load) unless it is cached already: per filter, until a row
      of the list's model changes (core.cache; the model must be tracked).

    An invalid filter gets the page with its error instead of either answer. The
    context gains `is_filtered`, `page_notice` and `summary` (None until cached)."""

    filter_params: tuple[str, ...] = ()
    csv_columns: dict[str, str] = {}
    csv_name = ""

    def get(self, request, *args, **kwargs):
        part = "csv" if request.GET.get("_export") == "csv" else request.GET.get("_part")
        if part in ("csv", "summary"):
            filterset = self.get_filterset(self.filterset_class)
            if filterset.is_valid():
                if part == "csv":
                    return self.export_csv(filterset.qs)
                return self.render_summary(filterset.qs)
        return super().get(request, *args, **kwargs)

    def summarize(self, queryset) -> dict:
        raise NotImplementedError

    def render_summary(self, queryset):
        summary = cached_result(queryset, "summary", lambda: self.summarize(queryset))
        context = {**summary, "is_filtered": self.is_filtered}
        return render(self.request, f"{self.template_name}#summary", context)

    def export_csv(self, queryset):
        table = self.table_class(queryset, order_by=self.request.GET.getlist("sort") or None)
        rows = table.data.data.values_list(*self.csv_columns.values()).iterator(chunk_size=2000)
        return csv_response(rows, self.csv_columns, f"{self.csv_name}-{timezone.localdate():%Y-%m-%d}.csv")

    @property
    def is_filtered(self) -> bool:
        return any(self.request.GET.get(param) for param in self.filter_params)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        # An unbound filterset (no parameters at all) lists everything: as good as valid.
        valid = not filterset.is_bound or filterset.is_valid()
        context["is_filtered"] = self.is_filtered
        context["page_notice"] = missing_page_notice(self.request, context["table"])
        context["summary"] = peek_result(filterset.qs, "summary") if valid else None
        return context
