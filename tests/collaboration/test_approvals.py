"""Approvals: asked on a record from the kinds its app registers, decided by the
approvers the kind names, never by the asker, once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from collaboration import services
from collaboration.models import ApprovalRequest, Notification
from collaboration.selectors import record_feed

pytestmark = pytest.mark.django_db


def ask(customer, by, kind="test.discount", reason="25% to win the renewal"):
    return services.request_approval(target=customer, kind=kind, by=by, reason=reason)


def test_a_request_tells_every_approver_and_shows_on_the_record(discount_kind, rep, sales_manager, clerk, customer):
    approval = ask(customer, rep)
    assert approval.status == ApprovalRequest.Status.PENDING
    assert approval.kind_label == "Discount over 20%"
    told = Notification.objects.filter(approval=approval)
    assert [(n.user, n.kind) for n in told] == [(sales_manager, Notification.Kind.APPROVAL_REQUESTED)]
    item = record_feed(clerk, customer).first()
    assert (item.verb, item.data["label"], item.data["reason"]) == (
        "approval.requested",
        "Discount over 20%",
        "25% to win the renewal",
    )


def test_asking_twice_while_pending_is_refused(discount_kind, rep, other_rep, customer):
    ask(customer, rep)
    with pytest.raises(services.ApprovalError, match="already waiting"):
        ask(customer, other_rep)
    assert ApprovalRequest.objects.count() == 1


def test_an_unknown_kind_or_one_for_another_model_is_refused(discount_kind, rep, customer, monkeypatch):
    with pytest.raises(ValidationError):
        ask(customer, rep, kind="test.nothing")
    with pytest.raises(ValidationError):
        services.request_approval(target=rep, kind="test.discount", by=rep)


def test_approving_records_the_decision_calls_the_app_back_and_tells_the_requester(
    discount_kind, decisions, rep, sales_manager, customer
):
    approval = ask(customer, rep)
    services.decide_approval(approval=approval, by=sales_manager, approve=True, comment="OK this once")
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by, approval.decision_comment) == (
        "approved",
        sales_manager,
        "OK this once",
    )
    assert decisions.calls == [(approval.pk, "approved", sales_manager.pk)]
    assert record_feed(rep, customer).first().verb == "approval.approved"
    told = Notification.objects.get(user=rep)
    assert told.kind == Notification.Kind.APPROVAL_DECIDED
    assert "approved your request" in told.text
    # The approver's own reminder is done with.
    assert Notification.objects.get(user=sales_manager).read_at is not None


def test_a_rejection_needs_a_comment(discount_kind, rep, sales_manager, customer):
    approval = ask(customer, rep)
    with pytest.raises(ValidationError, match="Say why"):
        services.decide_approval(approval=approval, by=sales_manager, approve=False)
    services.decide_approval(approval=approval, by=sales_manager, approve=False, comment="Too deep")
    approval.refresh_from_db()
    assert approval.status == "rejected"


def test_nobody_decides_their_own_request(discount_kind, sales_manager, customer):
    approval = ask(customer, sales_manager)
    with pytest.raises(PermissionDenied, match="your own request"):
        services.decide_approval(approval=approval, by=sales_manager, approve=True)
    approval.refresh_from_db()
    assert approval.is_pending


@pytest.mark.parametrize("decider", ["rep", "other_rep", "clerk", "finance_manager", "outsider"])
def test_only_the_kinds_approvers_decide(discount_kind, actors, customer, decider):
    approval = ask(customer, actors["rep"])
    with pytest.raises(PermissionDenied):
        services.decide_approval(approval=approval, by=actors[decider], approve=True)
    approval.refresh_from_db()
    assert approval.is_pending


def test_a_decision_is_taken_once(discount_kind, rep, sales_manager, admin_user, customer):
    approval = ask(customer, rep)
    services.decide_approval(approval=approval, by=sales_manager, approve=True)
    with pytest.raises(services.ApprovalError, match="already approved"):
        services.decide_approval(approval=approval, by=admin_user, approve=False, comment="No")
    approval.refresh_from_db()
    assert approval.decided_by == sales_manager


def test_when_the_app_refuses_the_decision_nothing_is_decided(discount_kind, decisions, rep, sales_manager, customer):
    approval = ask(customer, rep)
    decisions.refuse = ValidationError("The deal was lost meanwhile.")
    with pytest.raises(ValidationError):
        services.decide_approval(approval=approval, by=sales_manager, approve=True)
    approval.refresh_from_db()
    assert approval.is_pending
    assert not Notification.objects.filter(user=rep).exists()


def test_after_a_decision_a_new_request_may_be_made(discount_kind, rep, sales_manager, customer):
    services.decide_approval(approval=ask(customer, rep), by=sales_manager, approve=False, comment="Not now")
    assert ask(customer, rep).is_pending
