"""People acting at the same moment on PostgreSQL: one approval decision, one
pending request, one like each, counters that add up."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections

from collaboration import services
from collaboration.models import ApprovalRequest, FeedItem, Reaction
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (CI runs it there)")


def race(callables):
    """Run each callable in its own thread, released together; their outcomes."""
    barrier = threading.Barrier(len(callables))
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            outcomes.append(call())
        except (services.FeedError, PermissionDenied) as error:
            outcomes.append(type(error).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in callables]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_approvers_deciding_at_once_give_one_decision(
    discount_kind, decisions, rep, sales_manager, admin_user, customer
):
    approval = services.request_approval(target=customer, kind="test.discount", by=rep)
    outcomes = race(
        [
            lambda: services.decide_approval(approval=approval, by=sales_manager, approve=True).status,
            lambda: services.decide_approval(approval=approval, by=admin_user, approve=False, comment="No").status,
        ]
    )
    assert sorted(outcomes, key=str).count("ApprovalError") == 1
    assert len(decisions.calls) == 1
    approval.refresh_from_db()
    assert approval.status in ("approved", "rejected")


def test_two_people_asking_at_once_give_one_pending_request(discount_kind, rep, other_rep, customer):
    outcomes = race(
        [
            lambda: services.request_approval(target=customer, kind="test.discount", by=rep).status,
            lambda: services.request_approval(target=customer, kind="test.discount", by=other_rep).status,
        ]
    )
    assert sorted(outcomes) == ["ApprovalError", "pending"]
    assert ApprovalRequest.objects.filter(status="pending").count() == 1


def test_likes_at_once_count_each_person_once(rep, customer):
    item = services.post(target=customer, by=rep, body="We won the renewal")
    people = [UserFactory(role="Sales rep") for _ in range(8)]
    race([lambda person=person: services.like(item=item, by=person) for person in people * 2])
    item = FeedItem.objects.get(pk=item.pk)
    assert item.like_count == Reaction.objects.filter(item=item).count() == 8
