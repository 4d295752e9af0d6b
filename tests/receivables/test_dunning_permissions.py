"""Who may do what in dunning, as one matrix over the roles (receivables.permissions):
clerks run dunning, log calls, take promises and set holds; finance managers also edit
policies; reps and clerks open disputes (a rep on their own customers' invoices); only
finance resolves them."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from receivables import dunning

ISSUED = date(2026, 3, 1)
ALLOWED = {
    "run_dunning": {"clerk", "finance_manager", "admin"},
    "edit_policy": {"finance_manager", "admin"},
    "take_promise": {"clerk", "finance_manager", "admin"},
    "set_hold": {"clerk", "finance_manager", "admin"},
    "open_dispute": {"rep", "sales_manager", "clerk", "finance_manager", "admin"},
    "resolve_dispute": {"clerk", "finance_manager", "admin"},
    "log_call": {"rep", "clerk", "finance_manager", "admin"},  # `customer` is rep's
}


def attempt(action, user, customer, invoice, clerk):
    today = date.today()
    if action == "run_dunning":
        dunning.run_dunning(as_of=ISSUED + timedelta(days=33), by=user)
    elif action == "edit_policy":
        dunning.save_policy(by=user, name="Strict", levels=[{"name": "Reminder", "days_after_due": 7}])
    elif action == "take_promise":
        dunning.take_promise(customer=customer, by=user, amount="10", promised_for=today)
    elif action == "set_hold":
        dunning.set_dunning_hold(customer=customer, by=user, reason="Talks")
    elif action == "open_dispute":
        dunning.open_dispute(invoice=invoice, by=user, amount="10", reason="Price")
    elif action == "resolve_dispute":
        dispute = dunning.open_dispute(invoice=invoice, by=clerk, amount="10", reason="Price")
        dunning.resolve_dispute(dispute=dispute, by=user, outcome="rejected", note="As agreed")
    elif action == "log_call":
        dunning.log_call(customer=customer, by=user, outcome="called", note="Pays Friday")


@pytest.mark.parametrize("action", sorted(ALLOWED))
@pytest.mark.parametrize(
    "actor", ["rep", "other_rep", "sales_manager", "clerk", "finance_manager", "admin", "outsider"]
)
def test_the_dunning_permission_matrix(
    actor, action, actors, customer, issue, clerk, django_capture_on_commit_callbacks
):
    invoice = issue("100.00", on=ISSUED)
    user = actors[actor]
    with django_capture_on_commit_callbacks(execute=False):
        if actor in ALLOWED[action]:
            attempt(action, user, customer, invoice, clerk)
        else:
            with pytest.raises(PermissionDenied):
                attempt(action, user, customer, invoice, clerk)
