"""The customer 360's Collections panel (registered in receivables.apps): why reminders
wait (late-stage deal, serious service case, dispute, promise, manual hold), the open
calls asked of the owner, the last call logged, the last notices, with the buttons the
person may use (log a call, open a dispute, take a promise, hold).

A lazy panel (crm.panels): asked for after the page, it reads everything in one query of
its own, one JSON array per kind as a correlated subquery of the customer's row
(tests/crm/test_customer_360.py pins the counts)."""

import functools
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Aggregate, CharField, F, JSONField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat, JSONObject
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date

from billing.models import Invoice
from crm.models import Customer, Opportunity, ServiceCase
from crm.panels import Panel

from .dunning.holds import hold_thresholds
from .models import CollectionTask, Dispute, DunningHold, DunningNotice, PaymentPromise
from .permissions import (
    can_complete_task,
    can_log_call,
    can_open_dispute,
    can_set_dunning_holds,
    can_take_promises,
    can_view_dunning,
    can_view_standing,
)

PREFIX = "collections_"
NOTICE_DAYS = 120  # the notices shown: those of the last four months (at most one per 48 hours)
NOTICES_SHOWN = 5
HOLD_KINDS = ("deal", "service_case", "dispute", "promise", "manual_hold")
_TEXT = CharField()


class JSONArrayAgg(Aggregate):
    """The rows' JSON objects as one JSON array: JSONB_AGG on PostgreSQL, JSON_GROUP_ARRAY on SQLite."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


def _text(expression):
    # Money and dates as text: exact in JSON on both databases (a number would come back a float).
    return Cast(expression, _TEXT)


def _array(queryset, path: str, **fields):
    rows = (
        queryset.filter(**{path: OuterRef("pk")})
        .order_by()
        .values(path)
        .annotate(rows=JSONArrayAgg(JSONObject(pk="pk", **fields)))
        .values("rows")
    )
    return Subquery(rows, output_field=JSONField())


def _latest(queryset, path: str, order: tuple[str, ...], **fields):
    """The first row of `queryset` per customer (by `order`) as one JSON object."""
    row = queryset.filter(**{path: OuterRef("pk")}).order_by(*order).values(row=JSONObject(pk="pk", **fields))[:1]
    return Subquery(row, output_field=JSONField())


def hold_annotations(on: date) -> dict:
    """Why reminders to a customer wait, as annotations of a Customer queryset: the same
    causes as receivables.dunning.holds_for, read live."""
    probability, amount = hold_thresholds()
    return {
        PREFIX + "deal": _array(
            Opportunity.objects.open().filter(Q(stage__probability__gte=probability) | Q(amount__gte=amount)),
            "customer",
            title="name",
            amount=_text("amount"),
            currency="currency",
            extra="stage__name",
        ),
        PREFIX + "service_case": _array(ServiceCase.objects.serious(), "customer", title="subject", extra="severity"),
        PREFIX + "dispute": _array(
            Dispute.objects.open(),
            "invoice__customer",
            title="reason",
            amount=_text("amount"),
            currency="invoice__currency",
            extra="invoice__number",
        ),
        PREFIX + "promise": _array(
            PaymentPromise.objects.active().filter(promised_for__gte=on),
            "customer",
            amount=_text("amount"),
            currency="currency",
            day=_text("promised_for"),
            extra="invoice__number",
        ),
        PREFIX + "manual_hold": _array(
            DunningHold.objects.active(on), "customer", title="reason", day=_text("until"), extra="invoice__number"
        ),
    }


def collections_annotations(on: date) -> dict:
    """hold_annotations, and the open calls, the recent notices and the open invoices (for
    the forms). Built once per day and settings in each process, like credit's figures:
    Django copies an expression as it resolves it, so one serves every query."""
    return dict(_built_collections(on, repr(settings.RECEIVABLES)))


@functools.lru_cache(maxsize=8)
def _built_collections(on: date, conf: str) -> dict:
    return {
        **hold_annotations(on),
        PREFIX + "task": _array(
            CollectionTask.objects.filter(status=CollectionTask.Status.OPEN),
            "customer",
            title=Concat(F("owner__first_name"), Value(" "), F("owner__last_name"), output_field=_TEXT),
            day=_text("due"),
            owner="owner_id",
        ),
        PREFIX + "call": _latest(
            CollectionTask.objects.filter(status=CollectionTask.Status.DONE),
            "customer",
            ("-done_at", "-pk"),
            title=Concat(F("done_by__first_name"), Value(" "), F("done_by__last_name"), output_field=_TEXT),
            day=_text("done_at"),
            extra="outcome",
            note="note",
        ),
        PREFIX + "notice": _array(
            DunningNotice.objects.filter(
                status=DunningNotice.Status.SENT, run__as_of__gte=on - timedelta(days=NOTICE_DAYS)
            ),
            "customer",
            day=_text("run__as_of"),
            extra="level__name",
            currency="channel",
        ),
        PREFIX + "invoice": _array(
            Invoice.objects.owed(),
            "customer",
            title="number",
            amount=_text("balance_due"),
            currency="currency",
            day=_text("due_date"),
        ),
    }


def _clean(rows) -> list[dict]:
    """The JSON rows with their money as Decimal and their days as dates."""
    cleaned = []
    if isinstance(rows, dict):  # one row (_latest)
        rows = [rows]
    for row in rows or []:
        row = dict(row)
        if row.get("amount") not in (None, ""):
            row["amount"] = Decimal(str(row["amount"])).quantize(Decimal("0.01"))
        if isinstance(row.get("day"), str):
            row["day"] = parse_date(row["day"][:10])
        cleaned.append(row)
    return cleaned


def read_rows(customer, annotations: dict) -> dict[str, list[dict]]:
    """Per kind, the rows annotated on `customer` (by the 360's query), else read in one query."""
    if all(hasattr(customer, name) for name in annotations):
        values = {name: getattr(customer, name) for name in annotations}
    else:
        values = Customer.objects.filter(pk=customer.pk).annotate(**annotations).values(*annotations).get()
    return {name.removeprefix(PREFIX): _clean(value) for name, value in values.items()}


def customer_collections_panel(request, customer):
    user = request.user
    if not (can_view_standing(user, customer) and user.has_perm("receivables.view_dunninghold")):
        return None
    today = timezone.localdate()
    rows = read_rows(customer, collections_annotations(today))
    for task in rows["task"]:
        task["may_complete"] = can_complete_task(user, CollectionTask(owner_id=task["owner"]))
    rows["task"].sort(key=lambda row: row["day"])
    rows["notice"] = sorted(rows["notice"], key=lambda row: (row["day"], row["pk"]), reverse=True)[:NOTICES_SHOWN]
    rows["invoice"].sort(key=lambda row: (row["day"], row["pk"]))
    outcomes = dict(CollectionTask.Outcome.choices)
    for call in rows["call"]:
        call["outcome"] = outcomes.get(call.get("extra"), "")
    return {
        "rows": rows,
        "holds": [(kind, row) for kind in HOLD_KINDS for row in rows[kind]],
        "today": today,
        "may_hold": can_set_dunning_holds(user),
        "may_promise": can_take_promises(user),
        "may_dispute": can_open_dispute(user, customer),
        "may_view_notices": can_view_dunning(user),
        "may_call": can_log_call(user, customer),
        "last_call": rows["call"][0] if rows["call"] else None,
        "panel_customer": customer,
        "back": f"{reverse('crm:customer_detail', args=[customer.pk])}#collections-panel",
    }


# After the Receivables panel (5) and the Statement panel (6).
CUSTOMER_PANEL = Panel(
    "collections",
    "Collections",
    "receivables/panels/customer_collections.html",
    customer_collections_panel,
    order=7,
    # After the page (crm.panels, lazy): its eight JSON subqueries were a third of the 360's
    # SQL to build and run; read in one query of its own (read_rows).
    lazy=True,
)
