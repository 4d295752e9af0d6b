"""Dunning: reminding customers of what they owe, by policy, one notice per customer,
and never while the relationship says "wait".

- A policy (DunningPolicy) is a ladder of levels by days after the due date; each level
  has a channel (email, a letter PDF by email, or a task for the account owner), subject
  and body templates over a fixed set of fields (TEMPLATE_FIELDS), and may charge a fee or
  interest — open items of their own (DunningFee), never added to an invoice.
- `holds_for(customers, as_of)` reads, for many customers at once and live from the
  records, why they must not be reminded: a late-stage deal, an open dispute or serious
  service case, an active promise to pay, a manual dunning hold.
- `plan_dunning(as_of)` chooses, per customer, each overdue invoice at its own level and
  says who is skipped and why. The preview and the run both call it.
- `run_dunning(as_of, by)` records a run and hands it to Celery, which plans it
  (`plan_run`) and fans the customers out in batches (`make_notices`), each batch's notices then sent over one connection by `send_notices`, each once by `send_notice`. Safe under retries and
  crashes: a notice per (run, customer) and a level per invoice are unique in the
  database, sending is claimed with a conditional UPDATE, and each email goes once per
  notice (core.mail.send_once).
- Disputes, promises, manual holds and the owner's collection tasks are changed only here,
  and each change is told on the customer's feed.

One module per concept: templates, policies, holds, selection, runs, disputes, promises,
calls (the owner's tasks and calls logged unasked); base holds what they share. Pages, the API, tasks and tests
import from the package: `from receivables import dunning; dunning.plan_dunning(as_of)`.
"""

from .base import BATCH_SIZE, LETTER_DOCUMENT, MAX_ATTEMPTS, MESSAGE_GAP_DAYS, DunningConflict
from .calls import complete_task, log_call
from .disputes import RESOLUTIONS, open_dispute, resolve_dispute
from .effectiveness import Effectiveness, dunning_effectiveness
from .holds import Holds, hold_thresholds, holds_for, release_dunning_hold, set_dunning_hold
from .policies import check_levels, get_default_policy, save_policy, set_customer_policy
from .promises import cancel_promise, evaluate_promises, take_promise
from .runs import (
    check_run_date,
    document_context,
    document_filename,
    make_notices,
    plan_run,
    preview_dunning,
    resume_run,
    run_dunning,
    send_notice,
    send_notices,
    start_run,
    stop_run,
)
from .selection import CustomerPlan, DunningPlan, PlannedLine, Skip, plan_dunning
from .templates import TEMPLATE_FIELDS, check_template, render_template

__all__ = [
    "BATCH_SIZE",
    "CustomerPlan",
    "DunningConflict",
    "DunningPlan",
    "Effectiveness",
    "Holds",
    "LETTER_DOCUMENT",
    "MAX_ATTEMPTS",
    "MESSAGE_GAP_DAYS",
    "PlannedLine",
    "RESOLUTIONS",
    "Skip",
    "TEMPLATE_FIELDS",
    "cancel_promise",
    "check_levels",
    "check_run_date",
    "check_template",
    "complete_task",
    "document_context",
    "document_filename",
    "dunning_effectiveness",
    "evaluate_promises",
    "get_default_policy",
    "hold_thresholds",
    "holds_for",
    "log_call",
    "make_notices",
    "preview_dunning",
    "open_dispute",
    "plan_dunning",
    "plan_run",
    "release_dunning_hold",
    "render_template",
    "resolve_dispute",
    "resume_run",
    "run_dunning",
    "save_policy",
    "send_notice",
    "send_notices",
    "set_customer_policy",
    "set_dunning_hold",
    "start_run",
    "stop_run",
    "take_promise",
]
