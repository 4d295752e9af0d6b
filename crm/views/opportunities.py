"""Deal pages: the pipeline board, the list, the forecast, a deal's record page with
its lines editor, and creating and editing a deal.

Views parse the request, call crm.opportunities and render; who may do what comes
from crm.permissions. An htmx request gets a partial of the same template (a page of
a board column, the lines panel), a plain request the whole page, so moving a deal
and editing lines also work without JavaScript.

Query counts do not grow with the data: the board reads the stages, one aggregate
(count and total per stage and currency) and one page of cards per column; the list
reads one page of rows and one aggregate; the forecast is one GROUP BY.
"""

from datetime import date

from babel import Locale
from babel.dates import format_skeleton
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core import formats
from core.concurrency import StaleVersion
from core.lists import ListPageMixin, mark_invalid_filters, missing_page_notice
from core.tables import CappedPaginator

from .. import opportunities as deals
from ..filters import OpportunityFilterSet
from ..forms import FastSelect
from ..forms_opportunities import (
    OpportunityForm,
    check_rows,
    choices_for_lines,
    fill_from_product,
    rows_from_lines,
    rows_from_post,
)
from ..models import Customer, Opportunity, Stage
from ..panels import shown_deal_panels
from ..permissions import can_create_opportunity, can_edit_opportunity, can_reassign
from ..tables import OpportunityTable

DETAIL_TEMPLATE = "crm/opportunity_detail.html"
BOARD_TEMPLATE = "crm/opportunity_board.html"
CARDS_PER_COLUMN = 20
FILTER_PARAMS = ("q", "owner", "close_month", "customer", "stage")
STALE_LINES = (
    "This deal was changed by someone else since you opened it, so the lines were not saved. "
    "Check them and save again to keep yours."
)


class OpportunityViewMixin(PermissionRequiredMixin):
    """Every deal page needs a role that reads deals; without one, 403."""

    permission_required = "crm.view_opportunity"

    def get_queryset(self):
        return Opportunity.objects.visible_to(self.request.user).select_related("customer", "owner", "stage")


def filtered_deals(request, *, exclude: tuple[str, ...] = ()):
    """The deals the request's filters (OpportunityFilterSet) find, and the filterset
    (its form shows the filters and their errors). Invalid filters find nothing."""
    data = request.GET.copy()
    for name in exclude:
        data.pop(name, None)
    filterset = OpportunityFilterSet(
        data or None, queryset=Opportunity.objects.visible_to(request.user), request=request
    )
    deals_found = filterset.qs if (not filterset.is_bound or filterset.is_valid()) else Opportunity.objects.none()
    return filterset, deals_found


def prepare_deal_filters(form, *, shown: tuple[str, ...]):
    """Dress the filter form for the bar above the board, the list and the forecast."""
    form.fields["q"].widget.input_type = "search"
    form.fields["q"].widget.attrs.update({"class": "form-control", "placeholder": "Deal or customer"})
    for name in ("owner", "stage"):
        field = form.fields[name]
        field.widget = FastSelect(attrs={"class": "form-select"}, choices=field.choices)
    form.fields["close_month"].widget.attrs["class"] = "form-control"
    # The bar's own filters, and any other the URL gave a refused value (`?customer=1.5`):
    # shown with its error, so "correct the ones marked" has one to correct.
    given = mark_invalid_filters(form, always_shown=shown)
    return [form[name] for name in given if name in shown or form[name].errors]


def filter_context(request, filterset, *, shown: tuple[str, ...]) -> dict:
    customer_id = filterset.form.cleaned_data.get("customer") if filterset.is_bound and filterset.is_valid() else None
    customer = Customer.objects.filter(pk=customer_id).only("id", "name").first() if customer_id else None
    return {
        "filter": filterset,
        "filter_fields": prepare_deal_filters(filterset.form, shown=shown),
        "filter_customer": customer,
        "is_filtered": any(request.GET.get(param) for param in FILTER_PARAMS),
    }


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


# --- the pipeline board -----------------------------------------------------------------


def column_cards(deals_found, stage: Stage, offset: int = 0) -> tuple[list[Opportunity], bool]:
    """One page of a column: its cards and whether there are more (one query)."""
    order = ("-closed_on", "-id") if stage.is_closed else ("expected_close_date", "id")
    rows = list(
        deals_found.filter(stage=stage)
        .select_related("customer", "owner")
        .only(
            "id",
            "name",
            "amount",
            "currency",
            "expected_close_date",
            "closed_on",
            "stage_id",
            "owner_id",
            "customer_id",
            "customer__name",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
        )
        .order_by(*order)[offset : offset + CARDS_PER_COLUMN + 1]
    )
    return rows[:CARDS_PER_COLUMN], len(rows) > CARDS_PER_COLUMN


def board_columns(request, stages, deals_found, totals) -> list[dict]:
    columns = []
    for stage in stages:
        cards, more = column_cards(deals_found, stage)
        mark_movable(request, cards, stages)
        summary = totals.get(stage.pk, {"count": 0, "totals": []})
        columns.append({"stage": stage, "cards": cards, "more": more, "next_offset": len(cards), **summary})
    return columns


def card_context(request, stages) -> dict:
    """What every card needs to draw its "Move to…" menu, and where a plain
    (no JavaScript) move returns to: the board with its filters."""
    query = request.GET.copy()
    for name in ("column", "offset"):
        query.pop(name, None)
    board = reverse("crm:opportunity_board")
    filters = query.urlencode()
    return {"stages": stages, "filter_query": filters, "board_next": f"{board}?{filters}" if filters else board}


def mark_movable(request, cards, stages) -> list[Opportunity]:
    """Say on each card whether this user may move it: their own deals (reps), every
    deal (managers); never a won deal, which billing invoices as it was won."""
    won = {stage.pk for stage in stages if stage.is_won}
    for card in cards:
        card.may_move = card.stage_id not in won and can_edit_opportunity(request.user, card)
    return cards


class OpportunityBoardView(OpportunityViewMixin, TemplateView):
    """The pipeline as a kanban: a column per stage (open stages, then Won and Lost),
    each with its count and totals and a first page of cards; "Show more" asks for the
    next page of one column (`?column=<stage>&offset=<n>`, htmx)."""

    template_name = BOARD_TEMPLATE

    def get(self, request, *args, **kwargs):
        if "column" in request.GET:
            return self.column_page()
        return super().get(request, *args, **kwargs)

    def column_page(self):
        try:
            stage_id = int(self.request.GET["column"])
            offset = max(0, min(int(self.request.GET.get("offset", 0)), 10**9))
        except ValueError:
            return HttpResponse("Choose a column and a page.", status=400, content_type="text/plain")
        stages = list(Stage.objects.all())
        stage = next((s for s in stages if s.pk == stage_id), None)
        if stage is None:
            return HttpResponse("That column does not exist.", status=404, content_type="text/plain")
        _, deals_found = filtered_deals(self.request, exclude=("stage", "column", "offset"))
        cards, more = column_cards(deals_found, stage, offset)
        mark_movable(self.request, cards, stages)
        column = {"stage": stage, "cards": cards, "more": more, "next_offset": offset + len(cards)}
        context = {"column": column, **card_context(self.request, stages)}
        return render(self.request, f"{BOARD_TEMPLATE}#cards", context)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset, deals_found = filtered_deals(self.request, exclude=("stage",))
        stages = list(Stage.objects.all())
        totals = deals.stage_totals(deals_found)
        context.update(filter_context(self.request, filterset, shown=("q", "owner", "close_month")))
        context.update(card_context(self.request, stages))
        context["columns"] = board_columns(self.request, stages, deals_found, totals)
        return context


def column_summaries(request, stages) -> list[dict]:
    _, deals_found = filtered_deals(request, exclude=("stage",))
    totals = deals.stage_totals(deals_found)
    return [{"stage": stage, **totals.get(stage.pk, {"count": 0, "totals": []})} for stage in stages]


class OpportunityMoveView(OpportunityViewMixin, View):
    """Move a deal to a stage: the board's drag and drop and "Move to…" menu, the
    stage path and the Win / Lose buttons of the deal page.

    The board (fetch with `HX-Request`) gets the moved card and every column's new
    count and totals, or the refusal as text with 400 (invalid: winning without
    lines, losing without a reason), 409 (a won deal is closed; changed meanwhile) or
    403. A plain form post is redirected back with the outcome as a message."""

    http_method_names = ["post"]

    def post(self, request, pk):
        opportunity = get_object_or_404(self.get_queryset(), pk=pk)
        stage = Stage.objects.filter(pk=request.POST.get("stage") or 0).first() if _digits(request) else None
        version = request.POST.get("version")
        try:
            opportunity = deals.move_stage(
                opportunity=opportunity,
                by=request.user,
                stage=stage,
                lost_reason=request.POST.get("lost_reason", ""),
                expected_version=int(version) if version and version.isdigit() else None,
            )
        except PermissionDenied as error:
            return self.refused(opportunity, str(error) or "You may not change this deal.", 403)
        except StaleVersion:
            return self.refused(
                opportunity, "This deal was changed by someone else meanwhile; check it and try again.", 409
            )
        except ValidationError as error:
            status = 409 if opportunity.stage.is_won else 400
            return self.refused(opportunity, " ".join(error.messages), status)
        if request.htmx:
            stages = list(Stage.objects.all())
            opportunity = self.get_queryset().get(pk=opportunity.pk)
            mark_movable(request, [opportunity], stages)
            context = {
                "deal": opportunity,
                "columns": column_summaries(request, stages),
                **card_context(request, stages),
            }
            return render(request, f"{BOARD_TEMPLATE}#moved", context)
        messages.success(request, f"Moved {opportunity.name} to {opportunity.stage.name}.")
        return redirect(safe_next(request, opportunity.get_absolute_url()))

    def refused(self, opportunity, message: str, status: int):
        if self.request.htmx:
            return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
        if status == 403:
            raise PermissionDenied(message)
        messages.error(self.request, message)
        return redirect(safe_next(self.request, opportunity.get_absolute_url()))


def _digits(request) -> bool:
    value = request.POST.get("stage", "")
    return value.isdigit() and len(value) < 18


# --- list and forecast -------------------------------------------------------------------


class OpportunityListView(OpportunityViewMixin, ListPageMixin, SingleTableMixin, FilterView):
    """Deals with the board's filters (and a stage filter), sortable and paginated,
    with the filtered set's count and totals per currency."""

    list_key = "crm:opportunity_list"
    filterset_class = OpportunityFilterSet
    table_class = OpportunityTable
    table_pagination = {"per_page": 25, "paginator_class": CappedPaginator}
    template_name = "crm/opportunity_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        valid = not filterset.is_bound or filterset.is_valid()
        context.update(filter_context(self.request, filterset, shown=("q", "owner", "stage", "close_month")))
        context["page_notice"] = missing_page_notice(self.request, context["table"])
        context["totals"] = (
            list(
                filterset.qs.order_by()
                .values("currency")
                .annotate(total=Sum("amount"), count=Count("id"))
                .order_by("currency")
            )
            if valid
            else []
        )
        context["deal_count"] = sum(row["count"] for row in context["totals"])
        return context


class OpportunityForecastView(OpportunityViewMixin, TemplateView):
    """Open deals' weighted amount (amount × stage probability) by owner and close
    month, with unweighted totals, and what was won this month: GROUP BY queries."""

    template_name = "crm/opportunity_forecast.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset, deals_found = filtered_deals(self.request, exclude=("stage",))
        context.update(filter_context(self.request, filterset, shown=("q", "owner", "close_month")))
        context.update(forecast_table(deals.forecast_rows(deals_found)))
        today = timezone.localdate()
        start = today.replace(day=1)
        end = date(start.year + 1, 1, 1) if start.month == 12 else date(start.year, start.month + 1, 1)
        context["won_this_month"] = list(deals.won_between(deals_found, start, end))
        context["this_month"] = format_skeleton("yMMMM", start, locale=Locale.parse(formats.current_locale(), sep="-"))
        return context


def month_label(month: date) -> str:
    """ "Mar 2027" in the user's language (core.formats' locale)."""
    return format_skeleton("yMMM", month, locale=Locale.parse(formats.current_locale(), sep="-"))


def forecast_table(rows) -> dict:
    """Pivot the GROUP BY rows into owners × months, each cell and total per currency."""
    months: list[date] = sorted({row["month"] for row in rows})
    owners: dict[int, dict] = {}
    month_totals: dict[date, dict[str, dict]] = {month: {} for month in months}
    grand: dict[str, dict] = {}

    def add(bucket: dict[str, dict], row) -> None:
        cell = bucket.setdefault(row["currency"], {"weighted": 0, "amount": 0, "count": 0})
        cell["weighted"] += row["weighted"] or 0
        cell["amount"] += row["amount"] or 0
        cell["count"] += row["count"]

    for row in rows:
        owner = owners.setdefault(
            row["owner_id"],
            {
                "name": f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"],
                "cells": {month: {} for month in months},
                "total": {},
            },
        )
        add(owner["cells"][row["month"]], row)
        add(owner["total"], row)
        add(month_totals[row["month"]], row)
        add(grand, row)

    def listed(bucket):
        return [{"currency": currency, **figures} for currency, figures in sorted(bucket.items())]

    return {
        "months": [month_label(month) for month in months],
        "forecast_owners": [
            {
                "name": owner["name"],
                "cells": [listed(owner["cells"][month]) for month in months],
                "total": listed(owner["total"]),
            }
            for owner in owners.values()
        ],
        "month_totals": [listed(month_totals[month]) for month in months],
        "grand_total": listed(grand),
    }


# --- the deal's record page ----------------------------------------------------------------


def lines_context(request, opportunity: Opportunity, rows=None, *, notice: str = "", error: str = "") -> dict:
    if rows is None:
        rows = rows_from_lines(opportunity.lines.select_related("product", "tax_rate"))
    products, tax_rates = choices_for_lines(rows)
    amounts = [row.amount for row in rows if row.amount is not None]
    return {
        "opportunity": opportunity,
        "line_rows": rows,
        "products": products,
        "tax_rates": tax_rates,
        "lines_total": sum(amounts) if amounts else 0,
        "lines_editable": can_edit_opportunity(request.user, opportunity) and not opportunity.stage.is_closed,
        "lines_notice": notice,
        "lines_error": error,
    }


class OpportunityDetailView(OpportunityViewMixin, DetailView):
    """The deal's record page: header with the stage path and the facts that matter,
    the lines editor, and the feed."""

    template_name = DETAIL_TEMPLATE
    context_object_name = "opportunity"

    def get_queryset(self):
        return super().get_queryset().select_related("updated_by")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **detail_context(self.request, self.object)}


def detail_context(request, opportunity: Opportunity) -> dict:
    user = request.user
    return {
        "opportunity": opportunity,
        "object": opportunity,
        "stages": list(Stage.objects.all()),
        "can_edit": can_edit_opportunity(user, opportunity),
        **lines_context(request, opportunity),
        # Panels of the apps above crm (billing's invoicing), crm.panels.register_deal_panel.
        "deal_panels": shown_deal_panels(request, opportunity),
    }


class OpportunityLinesView(OpportunityViewMixin, View):
    """The lines editor (a panel of the deal page).

    POST with `_action=add` adds an empty row, `_remove=<n>` takes row n away,
    `_fill=<n>` fills row n from its product, `_action=preview` prices the rows:
    none of these saves. `_action=save` replaces the deal's lines through
    crm.opportunities.set_lines: all rows valid or nothing saved, each row's errors
    shown next to its fields. Rows left blank are dropped."""

    @cached_property
    def opportunity(self) -> Opportunity:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get(self, request, pk):
        return self.render_panel(lines_context(request, self.opportunity))

    def post(self, request, pk):
        opportunity = self.opportunity
        if not can_edit_opportunity(request.user, opportunity):
            raise PermissionDenied("You may not change this deal.")
        rows = rows_from_post(request.POST)
        action = request.POST.get("_action", "preview")
        remove, fill = request.POST.get("_remove"), request.POST.get("_fill")
        if remove is not None and remove.isdigit() and int(remove) < len(rows):
            del rows[int(remove)]
            action = "preview"
        if fill is not None and fill.isdigit() and int(fill) < len(rows):
            products = {str(product.pk): product for product in choices_for_lines(rows)[0]}
            fill_from_product(rows[int(fill)], products, opportunity.currency)
            action = "preview"
        if action == "add":
            rows.append(_blank_row())
            check_rows(rows, opportunity.currency)
            _hide_missing(rows)
            return self.render_panel(lines_context(request, opportunity, rows))
        if action != "save":
            check_rows(rows, opportunity.currency)
            _hide_missing(rows)
            context = lines_context(request, opportunity, rows)
            if action == "preview" and request.htmx and remove is None and fill is None:
                # While typing: only the figures and messages change, never the inputs being typed in.
                return render(request, f"{DETAIL_TEMPLATE}#line_figures", context)
            return self.render_panel(context)
        rows = [row for row in rows if not row.is_blank]
        if not check_rows(rows, opportunity.currency):
            count = sum(1 for row in rows if row.errors)
            error = f"Nothing was saved: correct the {count} line{'s' if count != 1 else ''} marked below."
            return self.render_panel(lines_context(request, opportunity, rows, error=error), status=400)
        version = request.POST.get("version", "")
        try:
            opportunity = deals.set_lines(
                opportunity=opportunity,
                by=request.user,
                lines=[row.data() for row in rows],
                expected_version=int(version) if version.isdigit() else None,
            )
        except StaleVersion:
            current = self.get_queryset().get(pk=opportunity.pk)
            return self.render_panel(lines_context(request, current, rows, error=STALE_LINES), status=409)
        except ValidationError as error:
            return self.render_panel(
                lines_context(request, opportunity, rows, error=" ".join(error.messages)), status=400
            )
        opportunity = self.get_queryset().get(pk=opportunity.pk)
        notice = f"Saved {len(rows)} line{'s' if len(rows) != 1 else ''}."
        if request.htmx:
            return self.render_panel(lines_context(request, opportunity, notice=notice), saved=True)
        messages.success(request, notice)
        return redirect(f"{opportunity.get_absolute_url()}#lines-panel")

    def render_panel(self, context, *, status: int = 200, saved: bool = False):
        if self.request.htmx:
            return render(self.request, f"{DETAIL_TEMPLATE}#lines", {**context, "lines_saved": saved}, status=status)
        full = {**detail_context(self.request, context["opportunity"]), **context}
        return render(self.request, DETAIL_TEMPLATE, full, status=status)


def _blank_row():
    return rows_from_post({"lines-count": "1"})[0]


def _hide_missing(rows) -> None:
    """While a row is being filled in, only what was typed wrong is flagged; what is
    still missing is said when saving."""
    for row in rows:
        row.errors = {
            name: messages_ for name, messages_ in row.errors.items() if str(row.values.get(name) or "").strip()
        }


# --- create and edit -----------------------------------------------------------------------


class OpportunityFormMixin(OpportunityViewMixin):
    template_name = "crm/opportunity_form.html"

    def render_form(self, form, status: int = 200):
        context = {"form": form, "customer": self.customer, "opportunity": getattr(self, "object", None)}
        return render(self.request, self.template_name, context, status=status)


class OpportunityCreateView(OpportunityFormMixin, View):
    """A new deal for a customer: its terms start as the customer's."""

    @cached_property
    def customer(self) -> Customer:
        return get_object_or_404(Customer.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_create_opportunity(request.user):
            raise PermissionDenied("You may not create deals.")
        return super().dispatch(request, *args, **kwargs)

    def form(self, data=None):
        user = self.request.user
        return OpportunityForm(data, user=user, customer=self.customer, may_reassign=can_reassign(user))

    def get(self, request, pk):
        return self.render_form(self.form())

    def post(self, request, pk):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                opportunity = deals.create_opportunity(by=request.user, customer=self.customer, data=form.changes())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Created the deal {opportunity.name}. Add its lines below.")
                return redirect(opportunity)
        return self.render_form(form)


class OpportunityUpdateView(OpportunityFormMixin, View):
    """A deal's name, close date, terms, next step and (managers) owner."""

    @cached_property
    def object(self) -> Opportunity:
        opportunity = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        if not can_edit_opportunity(self.request.user, opportunity):
            raise PermissionDenied("You may not change this deal.")
        return opportunity

    @property
    def customer(self) -> Customer:
        return self.object.customer

    def form(self, data=None, instance=None):
        user = self.request.user
        return OpportunityForm(
            data,
            instance=instance or Opportunity.objects.select_related("customer").get(pk=self.object.pk),
            user=user,
            customer=self.customer,
            may_reassign=can_reassign(user),
        )

    def get(self, request, pk):
        if self.object.stage.is_closed:
            messages.info(request, deals.WON_IS_CLOSED if self.object.stage.is_won else deals.CLOSED_DEAL)
            return redirect(self.object)
        return self.render_form(self.form())

    def post(self, request, pk):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                opportunity = deals.update_opportunity(
                    opportunity=self.object,
                    by=request.user,
                    data=form.changes(),
                    expected_version=form.opened_version,
                )
            except StaleVersion:
                form.stale(Opportunity.objects.select_related("customer").get(pk=self.object.pk))
                return self.render_form(form)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Saved {opportunity.name}.")
                return redirect(opportunity)
        return self.render_form(form)


urlpatterns = [
    path("deals/", OpportunityListView.as_view(), name="opportunity_list"),
    path("deals/board/", OpportunityBoardView.as_view(), name="opportunity_board"),
    path("deals/forecast/", OpportunityForecastView.as_view(), name="opportunity_forecast"),
    path("customers/<int:pk>/deals/new/", OpportunityCreateView.as_view(), name="opportunity_create"),
    path("deals/<int:pk>/", OpportunityDetailView.as_view(), name="opportunity_detail"),
    path("deals/<int:pk>/edit/", OpportunityUpdateView.as_view(), name="opportunity_edit"),
    path("deals/<int:pk>/lines/", OpportunityLinesView.as_view(), name="opportunity_lines"),
    path("deals/<int:pk>/move/", OpportunityMoveView.as_view(), name="opportunity_move"),
]
