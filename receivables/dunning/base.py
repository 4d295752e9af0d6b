"""What the dunning modules share: the conflict error, constants, and how input is read."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError

from ..models import ZERO

CENT = Decimal("0.01")
LETTER_DOCUMENT = "receivables.dunning_letter"
BATCH_SIZE = 100  # customers per Celery task: ≈100 items a task, never one task per row
MAX_ATTEMPTS = 5  # a notice that fails this often is marked failed (the run's summary says so)
# A claim older than this is taken over: the worker that held it died (past the task's hard
# limit). RECEIVABLES["DUNNING_STALE_CLAIM_SECONDS"] shortens it (the killed-worker test).
STALE_CLAIM = timedelta(
    seconds=settings.RECEIVABLES.get("DUNNING_STALE_CLAIM_SECONDS")
    or getattr(settings, "CELERY_TASK_TIME_LIMIT", 300) + 60
)
# The 48-hour rule, in days of the runs' as-of dates: a notice as of D blocks D and D+1.
MESSAGE_GAP_DAYS = 2


class DunningConflict(ValidationError):
    """Dunning cannot do this now (a run is in progress, the dispute is resolved…):
    a message on pages, a 409 in the API."""


def parse_decimal(value, field_name: str, *, low: Decimal, high: Decimal | None = None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field_name: "Enter a number such as 12.50."}) from None
    if not number.is_finite() or number < low or (high is not None and number > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError({field_name: f"Enter an amount {limit}."})
    return number.quantize(CENT)


def parse_amount(value, field_name: str = "amount") -> Decimal:
    amount = parse_decimal(value, field_name, low=ZERO)
    if amount is None or amount <= 0:
        raise ValidationError({field_name: "The amount must be more than zero."})
    if amount >= Decimal("1e12"):
        raise ValidationError({field_name: "The amount is too large."})
    return amount


def on_invoice(invoice) -> str:
    return f" on invoice {invoice.number}" if invoice is not None else ""


def customer_ids_of(customers) -> list[int] | None:
    if customers is None:
        return None
    return [c if isinstance(c, int) else c.pk for c in customers]


def for_customers(queryset, ids: list[int] | None, path: str = "customer_id"):
    return queryset if ids is None else queryset.filter(**{f"{path}__in": ids})
