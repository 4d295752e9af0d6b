"""Operations on deals: create, change, set the lines, move through the stages, win,
lose. Pages, the board, the API, lead conversion, the demo and tests all call these;
nothing writes an Opportunity or its lines another way.

- The amount is the sum of the lines' net amounts, each rounded half-up to the cent
  (core.money.line_amount), recomputed here in the transaction that changes a line.
- The currency is the customer's; the payment terms start as the customer's and the
  rep may change them (tracked in the feed, shown on the deal, carried to the invoice).
- A won deal is closed: billing invoices it, so its lines, terms and stage stay as won.
  A lost deal may be reopened by moving it to an open stage.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

import collaboration
from core.concurrency import StaleVersion, check_version
from core.money import line_amount, round_money

from .models import Customer, Opportunity, OpportunityLine, Product, Stage, TaxRate, possible_owners
from .permissions import can_create_opportunity, can_edit_opportunity, can_reassign

__all__ = [
    "StaleVersion",
    "create_opportunity",
    "lose",
    "move_stage",
    "set_lines",
    "update_opportunity",
    "win",
]

FIELDS = frozenset({"name", "owner", "expected_close_date", "payment_terms", "payment_days", "next_step"})
LINE_FIELDS = frozenset({"product", "description", "quantity", "unit_price", "discount_percent", "tax_rate"})
MAX_LINES = 200

WON_NEEDS_LINES = "Add at least one line before winning the deal: billing invoices its lines."
LOST_NEEDS_REASON = "Say why the deal was lost."
WON_IS_CLOSED = "This deal is won and closed: billing invoices it as it was won."
CLOSED_DEAL = "This deal is closed. Reopen it (move it to an open stage) to change it."


def first_open_stage() -> Stage:
    stage = Stage.objects.filter(is_won=False, is_lost=False).order_by("order").first()
    if stage is None:
        raise ValidationError({"stage": "No open stage is defined: add one under the pipeline's stages."})
    return stage


def won_stage() -> Stage:
    return Stage.objects.get(is_won=True)


def lost_stage() -> Stage:
    return Stage.objects.get(is_lost=True)


def _refuse_unknown(data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})


def _check_owner(by, opportunity: Opportunity, data: dict[str, Any]) -> None:
    if "owner" not in data:
        return
    owner = data["owner"]
    if getattr(owner, "pk", owner) == opportunity.owner_id:
        return
    if not can_reassign(by):
        raise PermissionDenied("Only sales managers give a deal to another rep.")
    if not possible_owners().filter(pk=getattr(owner, "pk", owner)).exists():
        raise ValidationError({"owner": "The owner must be an active sales rep or sales manager."})


def _assign(opportunity: Opportunity, data: dict[str, Any]) -> None:
    for name, value in data.items():
        field = opportunity._meta.get_field(name)
        if field.is_relation and not isinstance(value, field.related_model):
            raise ValidationError({name: f"Choose a valid {field.verbose_name}."})
        setattr(opportunity, name, value)


def _lock(opportunity: Opportunity) -> Opportunity:
    return Opportunity.objects.select_for_update().select_related("stage", "customer").get(pk=opportunity.pk)


@transaction.atomic
def create_opportunity(
    *, by, customer: Customer, data: dict[str, Any], lines: list[dict[str, Any]] | None = None
) -> Opportunity:
    """A new deal for `customer`, in the first open stage unless `data["stage"]` names
    another open one, owned by `by` (a manager may name another owner), with the
    customer's currency and, unless given, its payment terms."""
    if not can_create_opportunity(by):
        raise PermissionDenied("You may not create deals.")
    data = dict(data)
    stage = data.pop("stage", None) or first_open_stage()
    _refuse_unknown(data, FIELDS)
    if not isinstance(stage, Stage):
        raise ValidationError({"stage": "Choose a valid stage."})
    if stage.is_closed:
        raise ValidationError({"stage": "A new deal starts in an open stage; win or lose it afterwards."})
    opportunity = Opportunity(
        customer=customer,
        stage=stage,
        currency=customer.currency,
        payment_terms=customer.payment_terms,
        payment_days=customer.payment_days,
        owner=by,
        updated_by=by,
    )
    if "owner" in data and getattr(data["owner"], "pk", data["owner"]) != by.pk:
        _check_owner(by, Opportunity(owner_id=by.pk), data)
    _assign(opportunity, data)
    if not possible_owners().filter(pk=opportunity.owner_id).exists():
        raise ValidationError({"owner": "Choose the sales rep who owns this deal."})
    opportunity.full_clean(exclude=["updated_by"], validate_constraints=False)
    opportunity.save()
    if lines:
        _replace_lines(opportunity, lines)
    collaboration.publish(
        opportunity,
        "opportunity.created",
        actor=by,
        data={"amount": opportunity.amount, "currency": opportunity.currency, "stage": stage.name},
    )
    collaboration.follow(by, opportunity)
    collaboration.follow(opportunity.owner, opportunity)
    return opportunity


@transaction.atomic
def update_opportunity(
    *, opportunity: Opportunity, by, data: dict[str, Any], expected_version: int | None = None
) -> Opportunity:
    """Change a deal's name, close date, terms, next step, or (managers) its owner.
    Stage and lines have their own operations."""
    opportunity = _lock(opportunity)
    if not can_edit_opportunity(by, opportunity):
        raise PermissionDenied("You may not change this deal.")
    check_version(opportunity, expected_version)
    _refuse_unknown(data, FIELDS)
    if opportunity.stage.is_closed:
        raise ValidationError(WON_IS_CLOSED if opportunity.stage.is_won else CLOSED_DEAL)
    _check_owner(by, opportunity, data)
    with collaboration.tracking(opportunity, by=by):
        _assign(opportunity, data)
        opportunity.full_clean(exclude=["updated_by"], validate_constraints=False)
        opportunity.version += 1
        opportunity.updated_by = by
        opportunity.save()
    if "owner" in data:
        collaboration.follow(opportunity.owner, opportunity)
    return opportunity


# --- Lines ---------------------------------------------------------------------------


def _decimal(value, default=None) -> Decimal | None:
    if value is None or value == "":
        return default
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return number


def _related(value, model):
    if value is None or value == "" or isinstance(value, model):
        return value or None
    try:
        return model.objects.get(pk=int(value))
    except (model.DoesNotExist, TypeError, ValueError):
        raise ValueError from None


def build_line(data: dict[str, Any], *, currency: str, position: int = 0, model=OpportunityLine):
    """An unsaved, validated line from raw input (a form, a JSON body, a lead's
    conversion): a product fills in its name, list price and tax rate where they are
    not given. Raises ValidationError naming the field. `model` is the line's model
    (billing builds its invoice and plan lines here too)."""
    _refuse_unknown(data, LINE_FIELDS)
    errors: dict[str, str] = {}
    try:
        product = _related(data.get("product"), Product)
    except ValueError:
        product, errors["product"] = None, "Choose a valid product."
    try:
        tax_rate = _related(data.get("tax_rate"), TaxRate)
    except ValueError:
        tax_rate, errors["tax_rate"] = None, "Choose a valid tax rate."
    numbers = {}
    for name, label in (("quantity", "quantity"), ("unit_price", "unit price"), ("discount_percent", "discount")):
        try:
            numbers[name] = _decimal(data.get(name))
        except ValueError:
            errors[name] = f"Enter the {label} as a number."
    description = str(data.get("description") or "").strip()
    quantity = numbers.get("quantity")
    unit_price = numbers.get("unit_price")
    discount = numbers.get("discount_percent")
    if product is not None:
        description = description or product.name
        if "tax_rate" not in data:
            tax_rate = product.default_tax_rate
        if unit_price is None and "unit_price" not in errors:
            if product.currency != currency:
                errors["unit_price"] = (
                    f"{product.code} is priced in {product.currency}; enter the unit price in {currency}."
                )
            else:
                unit_price = product.unit_price
    if not description and "description" not in errors:
        errors["description"] = "Choose a product or describe the line."
    if quantity is None and "quantity" not in errors:
        errors["quantity"] = "Enter a quantity."
    elif quantity is not None and quantity <= 0:
        errors["quantity"] = "The quantity must be more than 0."
    if unit_price is None and "unit_price" not in errors:
        errors["unit_price"] = "Enter a unit price."
    elif unit_price is not None and unit_price < 0:
        errors["unit_price"] = "The unit price cannot be negative."
    if discount is not None and not (0 <= discount <= 100):
        errors["discount_percent"] = "The discount must be between 0 and 100 %."
    if errors:
        raise ValidationError(errors)
    line = model(
        position=position,
        product=product,
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount if discount is not None else Decimal("0"),
        tax_rate=tax_rate,
    )
    try:
        line.amount = line_amount(line.quantity, line.unit_price, line.discount_percent)
    except ArithmeticError:  # beyond what a decimal holds (a quantity of 10⁴⁰): checked below for the rest
        raise ValidationError(
            {"quantity": "This line's amount is too large: check its quantity and unit price."}
        ) from None
    parent = {"opportunity", "invoice", "plan", "quote", "credit_note"}
    line.full_clean(
        exclude=[field.name for field in model._meta.fields if field.name in parent], validate_constraints=False
    )
    return line


def build_lines(lines, *, currency: str, model=OpportunityLine, what: str = "A deal") -> list:
    """Validated, unsaved lines from raw input (each a dict, see build_line): all of them,
    or a ValidationError {"lines": ["Line 2: Quantity: …", …]} naming each bad line."""
    if not isinstance(lines, list | tuple):
        raise ValidationError({"lines": "Send the lines as a list."})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": f"{what} has at most {MAX_LINES} lines."})
    built, errors = [], {}
    for index, data in enumerate(lines):
        if not isinstance(data, dict):
            errors[f"Line {index + 1}"] = ["Each line is an object of fields."]
            continue
        try:
            built.append(build_line(data, currency=currency, position=index, model=model))
        except ValidationError as error:
            errors[f"Line {index + 1}"] = [
                f"{field.replace('_', ' ').capitalize()}: {message}"
                for field, messages in error.message_dict.items()
                for message in messages
            ]
    if errors:
        raise ValidationError({"lines": [f"{line}: {'; '.join(messages)}" for line, messages in errors.items()]})
    return built


def _replace_lines(opportunity: Opportunity, lines: list[dict[str, Any]]) -> None:
    built = build_lines(lines, currency=opportunity.currency)
    opportunity.lines.all().delete()
    for line in built:
        line.opportunity = opportunity
    OpportunityLine.objects.bulk_create(built)
    total = opportunity.lines.aggregate(total=Sum("amount"))["total"]
    opportunity.amount = round_money(total or Decimal("0.00"))  # SQLite sums decimals as floats
    opportunity.save(update_fields=["amount", "updated_at"])


@transaction.atomic
def set_lines(
    *, opportunity: Opportunity, by, lines: list[dict[str, Any]], expected_version: int | None = None
) -> Opportunity:
    """Replace the deal's lines with `lines` (each: product and/or description,
    quantity, unit price, discount %, tax rate) and recompute its amount. All lines
    are valid or none is saved; the errors name each line."""
    opportunity = _lock(opportunity)
    if not can_edit_opportunity(by, opportunity):
        raise PermissionDenied("You may not change this deal.")
    check_version(opportunity, expected_version)
    if opportunity.stage.is_closed:
        raise ValidationError(WON_IS_CLOSED if opportunity.stage.is_won else CLOSED_DEAL)
    with collaboration.tracking(opportunity, by=by):
        _replace_lines(opportunity, lines)
        opportunity.version += 1
        opportunity.updated_by = by
        opportunity.save(update_fields=["version", "updated_by", "updated_at"])
    return opportunity


# --- Stages --------------------------------------------------------------------------

# Checks other apps add before a deal may be won (receivables: a customer on credit
# hold needs an approval). Each is called as check(opportunity, by=user, on=day) — `on`
# None today, a past day when history is recorded (the demo) — and raises
# ValidationError or PermissionDenied to refuse; crm never imports them.
WIN_CHECKS: list = []


def register_win_check(check) -> None:
    if check not in WIN_CHECKS:
        WIN_CHECKS.append(check)


@transaction.atomic
def move_stage(
    *,
    opportunity: Opportunity,
    by,
    stage: Stage,
    lost_reason: str = "",
    expected_version: int | None = None,
    on: date | None = None,
) -> Opportunity:
    """Move a deal to `stage` (the board's drag and drop, the stage buttons, the API).

    Winning needs at least one line; losing needs a reason; a won deal stays won;
    moving a lost deal to an open stage reopens it. `on` is the day it was won or
    lost (today unless given: the demo's history)."""
    opportunity = _lock(opportunity)
    if not can_edit_opportunity(by, opportunity):
        raise PermissionDenied("You may not change this deal.")
    check_version(opportunity, expected_version)
    if not isinstance(stage, Stage):
        raise ValidationError({"stage": "Choose a valid stage."})
    if stage.pk == opportunity.stage_id:
        return opportunity
    if opportunity.stage.is_won:
        raise ValidationError({"stage": WON_IS_CLOSED})
    lost_reason = (lost_reason or "").strip()
    if stage.is_won:
        if not opportunity.lines.exists():
            raise ValidationError({"stage": WON_NEEDS_LINES})
        for check in WIN_CHECKS:
            check(opportunity, by=by, on=on)
    if stage.is_lost and not lost_reason:
        raise ValidationError({"lost_reason": LOST_NEEDS_REASON})
    with collaboration.tracking(opportunity, by=by):
        opportunity.stage = stage
        opportunity.lost_reason = lost_reason if stage.is_lost else ""
        opportunity.closed_on = (on or timezone.localdate()) if stage.is_closed else None
        opportunity.version += 1
        opportunity.updated_by = by
        opportunity.save()
    if stage.is_closed:
        verb = "opportunity.won" if stage.is_won else "opportunity.lost"
        facts = {"amount": opportunity.amount, "currency": opportunity.currency}
        if stage.is_lost:
            facts["reason"] = lost_reason
        collaboration.publish(opportunity, verb, actor=by, data=facts)
    return opportunity


def win(*, opportunity: Opportunity, by, expected_version: int | None = None, on: date | None = None) -> Opportunity:
    return move_stage(opportunity=opportunity, by=by, stage=won_stage(), expected_version=expected_version, on=on)


def lose(
    *, opportunity: Opportunity, by, reason: str, expected_version: int | None = None, on: date | None = None
) -> Opportunity:
    return move_stage(
        opportunity=opportunity,
        by=by,
        stage=lost_stage(),
        lost_reason=reason,
        expected_version=expected_version,
        on=on,
    )


# --- Reads: the board's columns and the forecast (pages and API) ------------------------
# Aggregates are GROUP BY queries in the database: the figures cost the same query
# whether a column holds ten deals or ten thousand.


def stage_totals(opportunities) -> dict[int, dict[str, Any]]:
    """{stage id: {"count": n, "totals": [(currency, amount), …]}} of `opportunities`
    (already filtered), in one query. Amounts in different currencies are never added."""
    rows = (
        opportunities.order_by()
        .values("stage_id", "currency")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("stage_id", "currency")
    )
    columns: dict[int, dict[str, Any]] = {}
    for row in rows:
        column = columns.setdefault(row["stage_id"], {"count": 0, "totals": []})
        column["count"] += row["count"]
        column["totals"].append((row["currency"], row["total"] or Decimal("0.00")))
    return columns


def forecast_rows(opportunities):
    """Open deals' weighted (amount × stage probability) and unweighted amounts by
    owner, close month and currency: one GROUP BY query."""
    return (
        opportunities.open()
        .with_weighted_amount()
        .annotate(month=TruncMonth("expected_close_date"))
        .order_by()
        .values("owner_id", "owner__first_name", "owner__last_name", "owner__username", "month", "currency")
        .annotate(weighted=Sum("weighted_amount"), amount=Sum("amount"), count=Count("id"))
        .order_by("owner__first_name", "owner__last_name", "owner__username", "owner_id", "month", "currency")
    )


def won_between(opportunities, start: date, end: date):
    """Deals won from `start` up to (not including) `end`, by currency: one query."""
    return (
        opportunities.won()
        .filter(closed_on__gte=start, closed_on__lt=end)
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("currency")
    )
