"""The account owner's collection calls (a task level): logged once, on the feed."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

import collaboration

from ..models import CollectionTask
from ..permissions import can_complete_task
from .base import DunningConflict


@transaction.atomic
def complete_task(*, task: CollectionTask, by, outcome: str, note: str = "") -> CollectionTask:
    """The owner (or a clerk) logs the call: called, promised or disputed. The next level
    of the task's invoices may go from the next run."""
    task = CollectionTask.objects.select_for_update().get(pk=task.pk)
    if not can_complete_task(by, task):
        raise PermissionDenied("Only the account owner or finance logs this call.")
    if outcome not in CollectionTask.Outcome.values:
        raise ValidationError({"outcome": "Choose called, promised or disputed."})
    if task.status == CollectionTask.Status.DONE:
        raise DunningConflict("This call was logged already.", code="done")
    task.status = CollectionTask.Status.DONE
    task.outcome = outcome
    task.note = (note or "").strip()[:300]
    task.done_at = timezone.now()
    task.done_by = by
    task.save(update_fields=["status", "outcome", "note", "done_at", "done_by"])
    collaboration.publish(
        task, "dunning.task_done", actor=by, data={"outcome": task.get_outcome_display().lower(), "note": task.note}
    )
    return task
