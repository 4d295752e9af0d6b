"""Collection calls: the account owner's calls asked for by a task level, and calls a
collector logs without being asked. Each logged once, on the customer's feed."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

import collaboration
from crm.models import Customer

from ..models import CollectionTask
from ..permissions import can_complete_task, can_log_call
from .base import DunningConflict

OUTCOME_ERROR = "Choose called, promised or disputed."


def _check_outcome(outcome: str) -> None:
    if outcome not in CollectionTask.Outcome.values:
        raise ValidationError({"outcome": OUTCOME_ERROR})


def _clean_note(note: str) -> str:
    return (note or "").strip()[:300]


@transaction.atomic
def complete_task(*, task: CollectionTask, by, outcome: str, note: str = "") -> CollectionTask:
    """The owner (or a clerk) logs the call: called, promised or disputed. The next level
    of the task's invoices may go from the next run."""
    task = CollectionTask.objects.select_for_update().get(pk=task.pk)
    if not can_complete_task(by, task):
        raise PermissionDenied("Only the account owner or finance logs this call.")
    _check_outcome(outcome)
    if task.status == CollectionTask.Status.DONE:
        raise DunningConflict("This call was logged already.", code="done")
    task.status = CollectionTask.Status.DONE
    task.outcome = outcome
    task.note = _clean_note(note)
    task.done_at = timezone.now()
    task.done_by = by
    task.save(update_fields=["status", "outcome", "note", "done_at", "done_by"])
    collaboration.publish(
        task, "dunning.task_done", actor=by, data={"outcome": task.get_outcome_display().lower(), "note": task.note}
    )
    return task


@transaction.atomic
def log_call(*, customer: Customer, by, outcome: str, note: str = "") -> CollectionTask:
    """A collector (a clerk) or the account owner called the customer: called, promised or
    disputed, with a note. If dunning asked for a call that is still open (a task level)
    and `by` may log it, that task is the one logged — the call it asked for was made, so
    the next level may go. Otherwise the call is recorded as a CollectionTask without a
    notice, done at once: a new model would need its own "last contact" reads, API and
    feed record, and a call never asked for must never be waited on, which the
    model's constraint (no notice ⇒ done) and the run's wait (open tasks only) both hold."""
    if not can_log_call(by, customer):
        raise PermissionDenied("Only the account owner or finance logs a call with this customer.")
    _check_outcome(outcome)
    # Locked in due order, as the run's task level and complete_task lock them one by one.
    asked = next(
        (
            task
            for task in CollectionTask.objects.select_for_update()
            .filter(customer=customer, status=CollectionTask.Status.OPEN)
            .order_by("due", "pk")
            if can_complete_task(by, task)
        ),
        None,
    )
    if asked is not None:
        return complete_task(task=asked, by=by, outcome=outcome, note=note)
    now = timezone.now()
    call = CollectionTask.objects.create(
        owner=by,
        customer=customer,
        notice=None,
        due=timezone.localdate(now),
        status=CollectionTask.Status.DONE,
        outcome=outcome,
        note=_clean_note(note),
        done_at=now,
        done_by=by,
    )
    collaboration.publish(
        call, "dunning.call_logged", actor=by, data={"outcome": call.get_outcome_display().lower(), "note": call.note}
    )
    return call
