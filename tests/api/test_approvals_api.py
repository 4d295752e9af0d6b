"""Approvals over the API: ask, list (my task list, my requests), approve and reject;
deciding one's own (403), one you may not (403), twice (409), asking while pending (409),
an unknown kind (400) — each refused without changing anything."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import SALES_MANAGER
from collaboration import registry, services
from collaboration.models import ApprovalRequest, FeedItem, Notification
from crm.models import Customer
from tests.factories import CustomerFactory

from .helpers import error_of

pytestmark = pytest.mark.django_db

APPROVALS = "/api/v1/approvals/"


@pytest.fixture(autouse=True)
def discount_kind():
    """A test-only approval kind: sales managers decide discounts over 20% on customers."""
    decided = []
    kind = registry.ApprovalKind(
        key="test.discount",
        label="Discount over 20%",
        model=Customer,
        approver_groups=(SALES_MANAGER,),
        on_decided=lambda approval, by: decided.append((approval.pk, approval.status, by.pk)),
    )
    registry.register_approval_kind(kind)
    yield decided
    registry.unregister_approval_kind("test.discount")


def key(record) -> str:
    return f"{record._meta.label_lower}:{record.pk}"


def ask(customer, by, reason="25% for a 3-year deal"):
    return services.request_approval(target=customer, kind="test.discount", by=by, reason=reason)


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def snapshot():
    return (
        list(ApprovalRequest.objects.values_list("id", "status", "decided_by_id", "decision_comment")),
        FeedItem.objects.count(),
        Notification.objects.count(),
    )


class TestAsking:
    def test_a_rep_asks_and_the_managers_are_told(self, as_actor, rep, sales_manager, customer):
        response = as_actor("rep").post(
            APPROVALS, {"target": key(customer), "kind": "test.discount", "reason": "25% for a 3-year deal"}
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["kind"], body["kind_label"], body["status"]) == ("test.discount", "Discount over 20%", "pending")
        assert body["target"]["type"] == "crm.customer" and body["target"]["id"] == customer.pk
        assert body["requested_by"]["id"] == rep.pk
        assert body["may_decide"] is False  # never one's own
        assert sales_manager.notifications.get().kind == "approval_requested"

    def test_asking_again_while_pending_is_a_409(self, as_actor, rep, customer):
        ask(customer, rep)
        before = snapshot()
        response = as_actor("rep").post(APPROVALS, {"target": key(customer), "kind": "test.discount"})
        assert response.status_code == 409
        assert error_of(response)["code"] == "conflict"
        assert "already waiting" in error_of(response)["message"]
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kind": "test.nothing"}, "kind"),
            ({"kind": ""}, "kind"),
            ({"kind": 7}, "kind"),
            ({"kind": ["test.discount"]}, "kind"),
            ({"kind": "test.discount", "target": "accounts.user:1"}, "kind"),  # not offered on people
            ({"kind": "test.discount", "target": "crm.customer:99999999999999999999"}, "target"),
            ({"kind": "test.discount", "target": "x"}, "target"),
            ({"kind": "test.discount", "reason": {"why": "because"}}, "reason"),
        ],
    )
    def test_an_unknown_kind_or_a_bad_body_is_a_400(self, as_actor, rep, customer, body, field):
        body = {"target": key(customer), **body}
        if body["target"] == "accounts.user:1":
            body["target"] = key(rep)
        response = as_actor("rep").post(APPROVALS, body, format="json")
        assert response.status_code == 400, response.json()
        assert field in error_of(response)["fields"]
        assert not ApprovalRequest.objects.exists()

    def test_a_read_only_token_cannot_ask(self, as_actor, customer):
        response = as_actor("rep", scope="read").post(APPROVALS, {"target": key(customer), "kind": "test.discount"})
        assert response.status_code == 403
        assert not ApprovalRequest.objects.exists()


class TestDeciding:
    def test_a_manager_approves_the_decision_goes_on_the_feed_and_the_app_is_called_back(
        self, as_actor, rep, sales_manager, customer, discount_kind
    ):
        approval = ask(customer, rep)

        response = as_actor("sales_manager").post(f"{APPROVALS}{approval.pk}/approve/", {"comment": "Fine"})

        assert response.status_code == 200, response.json()
        body = response.json()
        assert (body["status"], body["decision_comment"], body["decided_by"]["id"]) == (
            "approved",
            "Fine",
            sales_manager.pk,
        )
        assert body["may_decide"] is False
        assert discount_kind == [(approval.pk, "approved", sales_manager.pk)]
        assert FeedItem.objects.filter(verb="approval.approved", target_id=customer.pk).exists()
        assert rep.notifications.filter(kind="approval_decided").exists()

    def test_a_rejection_needs_a_reason(self, as_actor, rep, customer):
        approval = ask(customer, rep)
        client = as_actor("sales_manager")
        before = snapshot()
        response = client.post(f"{APPROVALS}{approval.pk}/reject/", {})
        assert response.status_code == 400
        assert "comment" in error_of(response)["fields"]
        assert snapshot() == before
        response = client.post(f"{APPROVALS}{approval.pk}/reject/", {"comment": "Too much"})
        assert response.json()["status"] == "rejected"

    def test_approving_twice_is_a_409(self, as_actor, rep, customer):
        approval = ask(customer, rep)
        client = as_actor("sales_manager")
        assert client.post(f"{APPROVALS}{approval.pk}/approve/", {}).status_code == 200
        before = snapshot()
        for action in ("approve", "reject"):
            response = client.post(f"{APPROVALS}{approval.pk}/{action}/", {"comment": "Again"})
            assert response.status_code == 409
            assert error_of(response)["message"] == "This request was already approved."
        assert snapshot() == before

    def test_approving_ones_own_request_is_a_403(self, as_actor, sales_manager, customer):
        approval = ask(customer, sales_manager)
        before = snapshot()
        response = as_actor("sales_manager").post(f"{APPROVALS}{approval.pk}/approve/", {})
        assert response.status_code == 403
        assert "your own request" in error_of(response)["message"]
        assert snapshot() == before

    @pytest.mark.parametrize("actor", ["clerk", "other_rep", "finance_manager"])
    def test_someone_the_kind_does_not_name_may_not_decide(self, as_actor, rep, customer, actor):
        approval = ask(customer, rep)
        before = snapshot()
        response = as_actor(actor).post(f"{APPROVALS}{approval.pk}/approve/", {"comment": "Sure"})
        assert response.status_code == 403
        assert error_of(response)["code"] == "permission_denied"
        assert snapshot() == before

    def test_a_request_on_a_record_you_may_not_see_is_a_404(self, as_actor, rep, customer, monkeypatch):
        approval = ask(customer, rep)
        monkeypatch.setitem(
            registry._records,
            "crm.customer",
            registry.RecordType(Customer, lambda user: Customer.objects.filter(owner_id=user.pk), "customer"),
        )
        before = snapshot()
        client = as_actor("sales_manager")
        assert client.get(f"{APPROVALS}{approval.pk}/").status_code == 404
        assert client.post(f"{APPROVALS}{approval.pk}/approve/", {}).status_code == 404
        assert ids(client.get(APPROVALS)) == []
        assert ids(as_actor("rep").get(APPROVALS)) == [approval.pk]  # one's own request stays visible
        assert snapshot() == before

    @pytest.mark.parametrize("body", [{"comment": 5}, {"comment": ["Fine"]}, {"comment": "x" * 5001}])
    def test_a_malformed_decision_is_a_400(self, as_actor, rep, customer, body):
        approval = ask(customer, rep)
        response = as_actor("sales_manager").post(f"{APPROVALS}{approval.pk}/approve/", body, format="json")
        assert response.status_code == 400
        approval.refresh_from_db()
        assert approval.is_pending

    def test_a_read_only_token_cannot_decide(self, as_actor, rep, customer):
        approval = ask(customer, rep)
        response = as_actor("sales_manager", scope="read").post(f"{APPROVALS}{approval.pk}/approve/", {})
        assert response.status_code == 403
        approval.refresh_from_db()
        assert approval.is_pending


class TestListing:
    def test_task_list_and_my_requests(self, as_actor, rep, sales_manager, customer):
        mine = ask(customer, rep)
        others = ask(CustomerFactory(owner=sales_manager), sales_manager)
        decided = ask(CustomerFactory(owner=rep), rep)
        services.decide_approval(approval=decided, by=sales_manager, approve=True)

        manager = as_actor("sales_manager")
        assert ids(manager.get(APPROVALS, {"status": "pending", "to_decide": "true"})) == [mine.pk]
        assert ids(manager.get(APPROVALS, {"to_decide": "true"})) == [mine.pk]
        assert ids(manager.get(APPROVALS, {"mine": "true"})) == [others.pk]
        assert ids(manager.get(APPROVALS, {"status": "approved"})) == [decided.pk]
        assert ids(as_actor("rep").get(APPROVALS, {"mine": "true"})) == [decided.pk, mine.pk]
        assert ids(as_actor("rep").get(APPROVALS, {"to_decide": "true"})) == []
        rows = {row["id"]: row for row in manager.get(APPROVALS).json()["results"]}
        assert (rows[mine.pk]["may_decide"], rows[others.pk]["may_decide"], rows[decided.pk]["may_decide"]) == (
            True,
            False,
            False,
        )

    @pytest.mark.parametrize("params", [{"status": "open"}, {"mine": "yes"}, {"to_decide": ""}, {"status": ""}])
    def test_a_bad_filter_is_a_400(self, as_actor, params):
        assert as_actor("rep").get(APPROVALS, params).status_code == 400

    def test_a_user_without_a_role_sees_nothing(self, as_actor, rep, customer):
        ask(customer, rep)
        response = as_actor("outsider").get(APPROVALS)
        assert response.status_code == 403

    def test_the_list_costs_the_same_for_2_and_for_50(self, as_actor, rep, other_rep, sales_manager):
        client = as_actor("sales_manager")

        def queries():
            with CaptureQueriesContext(connection) as captured:
                response = client.get(APPROVALS)
            return len(captured), len(response.json()["results"])

        for n in range(2):
            ask(CustomerFactory(owner=rep), [rep, other_rep][n % 2])
        client.get(APPROVALS)
        few = queries()
        for n in range(48):
            ask(CustomerFactory(owner=rep), [rep, other_rep][n % 2])
        many = queries()
        assert (few[1], many[1]) == (2, 50)
        assert few[0] == many[0]
