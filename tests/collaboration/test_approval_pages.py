"""The approvals task list, deciding from it, and asking for approval from a record."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from accounts.roles import FINANCE_MANAGER, SALES_MANAGER
from collaboration import registry
from collaboration.models import ApprovalRequest, FeedItem, Notification
from collaboration.services import request_approval
from crm.models import Customer
from tests.factories import CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
LIST = reverse("collaboration:approvals")
REQUEST = reverse("collaboration:approval_request")
KIND = "test.discount"


@pytest.fixture(autouse=True)
def discount_kind():
    """A test-only approval kind: sales managers approve discounts over 20% on customers."""
    decided = []
    registry.register_approval_kind(
        registry.ApprovalKind(
            key=KIND,
            label="Discount over 20%",
            model=Customer,
            approver_groups=(SALES_MANAGER,),
            on_decided=lambda approval, by: decided.append((approval.pk, approval.status, by.pk)),
        )
    )
    yield decided
    registry.unregister_approval_kind(KIND)


def on(record) -> str:
    return f"crm.customer:{record.pk}"


def decide_url(approval) -> str:
    return reverse("collaboration:approval_decide", args=[approval.pk])


def rows(response) -> list[str]:
    return [row.attrs["id"] for row in parse(response.text).find_all(tag="li", class_="approval-row")]


@pytest.fixture
def pending(rep, customer):
    return request_approval(target=customer, kind=KIND, by=rep, reason="Strategic account, 25% for 3 years")


class TestAskingFromTheRecord:
    def test_the_record_panel_offers_the_kinds_of_its_model_and_lists_its_requests(self, rep, customer, pending):
        request = RequestFactory().get("/")
        request.user = rep
        html = Template("{% load approvals %}{% approvals_on_record record %}").render(
            Context({"record": customer, "request": request, "csrf_token": "t0ken"})
        )
        page = parse(html)
        kinds = [option.attrs["value"] for option in page.find(tag="select", name="kind").find_all(tag="option")]
        assert KIND in kinds and "crm.credit_limit_exception" in kinds
        assert page.find(tag="input", name="on").attrs["value"] == on(customer)
        assert page.find(tag="label", for_="approval-reason-crmcustomer" + str(customer.pk)) is not None
        listed = page.by_id(f"record-approval-{pending.pk}")
        assert "Discount over 20%" in listed.text and "Pending" in listed.text

    def test_a_record_without_kinds_or_requests_shows_nothing(self, rep, clerk):
        request = RequestFactory().get("/")
        request.user = rep
        html = Template("{% load approvals %}{% approvals_on_record record %}").render(
            Context({"record": clerk, "request": request})
        )
        assert html.strip() == ""

    def test_asking_notifies_the_approvers_and_answers_with_the_panel(self, signed_in, customer, sales_manager, clerk):
        response = signed_in("rep").post(
            REQUEST, {"on": on(customer), "kind": KIND, "reason": "Big deal"}, headers=HTMX
        )
        assert response.status_code == 200
        approval = ApprovalRequest.objects.get()
        assert (approval.kind, approval.reason, approval.status) == (KIND, "Big deal", "pending")
        assert "Asked for approval: Discount over 20%" in parse(response.text).find(role="status").text
        told = set(Notification.objects.filter(approval=approval).values_list("user__username", flat=True))
        assert told == {"salesmanager", "admin"}  # the approvers: sales managers, and superusers

    def test_everyone_told_may_decide_it(self, signed_in, pending, admin_user):
        assert rows(signed_in("admin").get(LIST)) == [f"approval-{pending.pk}"]

    def test_asking_twice_while_pending_is_refused_with_409(self, signed_in, customer, pending):
        response = signed_in("rep").post(REQUEST, {"on": on(customer), "kind": KIND}, headers=HTMX)
        assert response.status_code == 409
        assert "already waiting for a decision" in parse(response.text).find(role="alert").text
        assert ApprovalRequest.objects.count() == 1

    def test_an_unknown_kind_is_a_field_error(self, signed_in, customer):
        response = signed_in("rep").post(REQUEST, {"on": on(customer), "kind": "nope"}, headers=HTMX)
        assert response.status_code == 400
        assert parse(response.text).find(tag="select", name="kind").attrs["aria-invalid"] == "true"
        assert not ApprovalRequest.objects.exists()

    @pytest.mark.parametrize("key", ["", "crm.customer", "crm.customer:abc", "nope.nope:1", "crm.customer:999999"])
    def test_a_record_that_does_not_exist_is_not_found(self, signed_in, key):
        assert signed_in("rep").post(REQUEST, {"on": key, "kind": KIND}).status_code == 404

    def test_a_record_you_may_not_see_is_not_found(self, signed_in, customer):
        assert signed_in("outsider").post(REQUEST, {"on": on(customer), "kind": KIND}).status_code == 404
        assert not ApprovalRequest.objects.exists()

    def test_without_javascript_it_goes_back_to_the_record(self, signed_in, customer):
        response = signed_in("rep").post(REQUEST, {"on": on(customer), "kind": KIND})
        assert response.status_code == 302 and response.url == customer.get_absolute_url()


class TestTheTaskList:
    def test_approvers_see_what_waits_for_them_with_its_record_requester_and_reason(self, signed_in, pending, customer):
        response = signed_in("sales_manager").get(LIST)
        assert rows(response) == [f"approval-{pending.pk}"]
        row = parse(response.text).by_id(f"approval-{pending.pk}")
        assert row.find(tag="a").attrs["href"] == customer.get_absolute_url()
        assert "Discount over 20%" in row.text and "Rita Rep" in row.text and "Strategic account" in row.text
        assert row.by_id(f"approve-{pending.pk}") and row.by_id(f"reject-{pending.pk}")
        assert row.find(tag="label", for_=f"decision-comment-{pending.pk}").text.startswith("Comment")

    def test_others_have_nothing_to_decide(self, signed_in, pending):
        assert rows(signed_in("clerk").get(LIST)) == []
        assert rows(signed_in("other_rep").get(LIST)) == []
        assert rows(signed_in("outsider").get(LIST)) == []

    def test_my_own_requests_are_not_mine_to_decide(self, signed_in, sales_manager, customer):
        request_approval(target=customer, kind=KIND, by=sales_manager)
        assert rows(signed_in("sales_manager").get(LIST)) == []

    def test_my_requests_show_their_status(self, signed_in, pending):
        response = signed_in("rep").get(LIST, {"tab": "mine"})
        row = parse(response.text).by_id(f"approval-{pending.pk}")
        assert "Pending" in row.find(class_="approval-status").text
        assert row.find_all(tag="form") == []

    def test_decided_lists_recent_decisions(self, signed_in, pending, sales_manager):
        client = signed_in("sales_manager")
        client.post(decide_url(pending), {"decision": "approve"})
        response = client.get(LIST, {"tab": "decided"})
        row = parse(response.text).by_id(f"approval-{pending.pk}")
        assert "Approved by Sam Manager" in " ".join(row.text.split())

    def test_an_unknown_tab_or_cursor_shows_the_first_tab(self, signed_in, pending):
        client = signed_in("sales_manager")
        assert rows(client.get(LIST, {"tab": "<x>", "before": "1e99"})) == [f"approval-{pending.pk}"]
        assert client.get(LIST, {"before": "99999999999999999999999999"}).status_code == 200

    def test_the_list_costs_the_same_for_2_and_20_requests(self, signed_in, rep, django_assert_num_queries):
        client = signed_in("sales_manager")
        for customer in CustomerFactory.create_batch(2):
            request_approval(target=customer, kind=KIND, by=rep)
        client.get(LIST)  # warm: permissions and the bell's count cached
        with django_assert_num_queries(2):  # the user, the requests with their people
            client.get(LIST)
        for customer in CustomerFactory.create_batch(18):
            request_approval(target=customer, kind=KIND, by=rep)
        client.get(LIST)
        with django_assert_num_queries(2):
            response = client.get(LIST)
        assert len(response.context["approvals"]) == 20


class TestDeciding:
    def test_approving_decides_calls_back_the_app_and_goes_on_the_feed(
        self, signed_in, pending, sales_manager, discount_kind
    ):
        response = signed_in("sales_manager").post(decide_url(pending), {"decision": "approve"}, headers=HTMX)
        assert response.status_code == 200
        row = parse(response.text)
        assert "Approved: Discount over 20%" in row.find(role="status").text
        assert row.find_all(tag="form") == []
        pending.refresh_from_db()
        assert pending.status == "approved" and pending.decided_by == sales_manager
        assert discount_kind == [(pending.pk, "approved", sales_manager.pk)]
        assert FeedItem.objects.filter(verb="approval.approved", target_id=pending.target_id).exists()

    def test_rejecting_needs_a_comment(self, signed_in, pending, discount_kind):
        response = signed_in("sales_manager").post(decide_url(pending), {"decision": "reject"}, headers=HTMX)
        assert response.status_code == 400
        page = parse(response.text)
        comment = page.find(tag="textarea", name="comment")
        assert comment.attrs["aria-invalid"] == "true" and "autofocus" in comment.attrs
        assert "Say why you reject it" in page.by_id(comment.attrs["aria-describedby"]).text
        pending.refresh_from_db()
        assert pending.is_pending and discount_kind == []

    def test_rejecting_with_a_comment(self, signed_in, pending):
        response = signed_in("sales_manager").post(
            decide_url(pending), {"decision": "reject", "comment": "Max 15%"}, headers=HTMX
        )
        assert response.status_code == 200
        pending.refresh_from_db()
        assert (pending.status, pending.decision_comment) == ("rejected", "Max 15%")
        assert "Max 15%" in response.text

    def test_deciding_twice_is_a_conflict(self, signed_in, pending):
        client = signed_in("sales_manager")
        client.post(decide_url(pending), {"decision": "approve"}, headers=HTMX)
        response = client.post(decide_url(pending), {"decision": "reject", "comment": "No"}, headers=HTMX)
        assert response.status_code == 409
        assert "already approved" in parse(response.text).find(role="alert").text
        pending.refresh_from_db()
        assert pending.status == "approved"

    def test_deciding_your_own_request_is_forbidden(self, signed_in, sales_manager, customer):
        own = request_approval(target=customer, kind=KIND, by=sales_manager)
        response = signed_in("sales_manager").post(decide_url(own), {"decision": "approve"}, headers=HTMX)
        assert response.status_code == 403
        assert "cannot decide your own request" in parse(response.text).find(role="alert").text
        own.refresh_from_db()
        assert own.is_pending

    def test_someone_who_may_not_approve_is_forbidden(self, signed_in, pending):
        response = signed_in("clerk").post(decide_url(pending), {"decision": "approve"})
        assert response.status_code == 403
        assert "You may not decide this request." in parse(response.text).by_id("approval-error").text
        pending.refresh_from_db()
        assert pending.is_pending

    def test_someone_who_may_not_see_the_record_does_not_find_the_request(self, signed_in, pending):
        assert signed_in("outsider").post(decide_url(pending), {"decision": "approve"}).status_code == 404

    def test_a_decision_must_be_approve_or_reject(self, signed_in, pending):
        response = signed_in("sales_manager").post(decide_url(pending), {"decision": "maybe"}, headers=HTMX)
        assert response.status_code == 400
        pending.refresh_from_db()
        assert pending.is_pending

    def test_without_javascript_it_goes_back_to_the_list(self, signed_in, pending):
        response = signed_in("sales_manager").post(decide_url(pending), {"decision": "approve"})
        assert response.status_code == 302 and response.url == f"{LIST}?tab=decide"

    def test_the_rows_say_refusals_in_place(self, signed_in, pending):
        form = parse(signed_in("sales_manager").get(LIST).text).find(tag="form", class_="approval-decision")
        assert "data-swap-errors" in form.attrs and form.attrs["hx-target"] == f"#approval-{pending.pk}"


class TestTheCreditLimitKind:
    def test_crm_offers_selling_above_the_credit_limit_to_finance_managers(self, finance_manager, sales_manager):
        kind = registry.approval_kind("crm.credit_limit_exception")
        assert kind.label == "Sell above the credit limit" and kind.model is Customer
        assert kind.approver_groups == (FINANCE_MANAGER,)
        assert kind.may_approve(finance_manager) and not kind.may_approve(sales_manager)

    def test_a_finance_manager_decides_it_from_the_task_list(self, signed_in, rep, customer):
        approval = request_approval(target=customer, kind="crm.credit_limit_exception", by=rep, reason="Q4 order")
        client = signed_in("finance_manager")
        assert rows(client.get(LIST)) == [f"approval-{approval.pk}"]
        assert client.post(decide_url(approval), {"decision": "approve"}, headers=HTMX).status_code == 200
        approval.refresh_from_db()
        assert approval.status == "approved"
