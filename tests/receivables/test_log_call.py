"""Logging a call with a customer that has no open collection task (dunning.log_call):
clerks and the account owner; stored as a done CollectionTask without a notice, shown as
the worklist's "last contact" and on the 360, told on the feed; an open call dunning
asked of the person is the one logged instead. A call never asked for is never waited
on by the next level. From the worklist (every row), the 360 and the API.

Invoices are issued on 1 March 2026 with 30 days to pay (due 31 March)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from collaboration.models import FeedItem
from receivables import dunning
from receivables.models import CollectionTask
from tests.factories import CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db

DUE = date(2026, 3, 31)
TODAY = date.today()


def on(days_overdue: int) -> date:
    return DUE + timedelta(days=days_overdue)


@pytest.fixture
def run(clerk, django_capture_on_commit_callbacks):
    def start(as_of):
        with django_capture_on_commit_callbacks(execute=True):
            return dunning.run_dunning(as_of=as_of, by=clerk)

    return start


# --- the service ---------------------------------------------------------------------------


class TestService:
    def test_a_clerk_logs_a_call_without_a_task(self, customer, clerk):
        call = dunning.log_call(customer=customer, by=clerk, outcome="promised", note="  Pays on Friday  ")
        assert call.notice is None and call.status == CollectionTask.Status.DONE
        assert (call.outcome, call.note, call.done_by, call.owner) == ("promised", "Pays on Friday", clerk, clerk)
        item = FeedItem.objects.get(verb="dunning.call_logged")
        assert item.data["outcome"] == "promised to pay"

    def test_the_account_owner_logs_a_call_another_rep_may_not(self, customer, rep, other_rep, sales_manager):
        assert dunning.log_call(customer=customer, by=rep, outcome="called").done_by == rep
        for who in (other_rep, sales_manager):
            with pytest.raises(PermissionDenied):
                dunning.log_call(customer=customer, by=who, outcome="called")
        assert CollectionTask.objects.count() == 1

    def test_an_unknown_outcome_is_refused_and_nothing_is_written(self, customer, clerk):
        with pytest.raises(ValidationError) as refused:
            dunning.log_call(customer=customer, by=clerk, outcome="shouted")
        assert "Choose called, promised or disputed." in refused.value.messages
        assert not CollectionTask.objects.exists() and not FeedItem.objects.filter(verb__startswith="dunning.").exists()

    def test_an_open_call_asked_by_dunning_is_the_one_logged(self, issue, customer, run, rep):
        issue("100.00")
        run(on(21))  # the task level: the owner is asked to call
        task = CollectionTask.objects.get()
        logged = dunning.log_call(customer=customer, by=rep, outcome="called", note="Done")
        assert logged.pk == task.pk and CollectionTask.objects.count() == 1
        task.refresh_from_db()
        assert task.status == CollectionTask.Status.DONE and task.notice_id is not None
        assert FeedItem.objects.filter(verb="dunning.task_done").count() == 1

    def test_a_call_without_a_notice_cannot_be_left_open(self, customer, clerk):
        with pytest.raises(IntegrityError), transaction.atomic():
            CollectionTask.objects.create(customer=customer, owner=clerk, due=TODAY, status="open")


class TestNoWaiting:
    def test_a_logged_call_never_holds_back_the_next_level(self, issue, customer, clerk):
        invoice = issue("100.00")
        before = dunning.plan_dunning(on(14)).for_customer(customer.pk)
        dunning.log_call(customer=customer, by=clerk, outcome="called", note="Says it is on its way")
        after = dunning.plan_dunning(on(14)).for_customer(customer.pk)
        assert [line.invoice_id for line in after.lines] == [line.invoice_id for line in before.lines] == [invoice.pk]
        assert not any(skip.reason == "waiting_for_task" for skip in after.skipped)

    def test_the_owners_open_call_waits_until_someone_logs_it(self, issue, customer, run, rep):
        invoice = issue("100.00")
        run(on(28))  # the owner is asked to call by on(33)
        dunning.log_call(customer=CustomerFactory(owner=rep), by=rep, outcome="called")  # another customer's call
        plan = dunning.plan_dunning(on(30)).for_customer(customer.pk)
        assert {skip.reason for skip in plan.skipped} == {"waiting_for_task"}
        dunning.log_call(customer=customer, by=rep, outcome="called")  # the owner calls: that is the task
        assert [line.invoice_id for line in dunning.plan_dunning(on(30)).for_customer(customer.pk).lines] == [
            invoice.pk
        ]


# --- pages ---------------------------------------------------------------------------------


def overdue(issue, net, days_overdue, **kwargs):
    return issue(net, on=TODAY - timedelta(days=30 + days_overdue), **kwargs)


class TestPages:
    def test_every_worklist_row_has_log_a_call_and_it_shows_as_last_contact(self, signed_in, issue, customer):
        overdue(issue, "100.00", 5)  # no task for this customer
        client = signed_in("clerk")
        assert parse(client.get(reverse("receivables:collections")).text).by_id(f"worklist-row-{customer.pk}")
        # The row's forms come when its "Actions" is first opened.
        actions = parse(client.get(reverse("receivables:collection_actions", args=[customer.pk])).text)
        url = reverse("receivables:collection_call_log", args=[customer.pk])
        assert url in [form.attrs.get("action") for form in actions.find_all("form")]
        response = client.post(
            url, {"outcome": "promised", "note": "Friday", "_from": "worklist"}, HTTP_HX_REQUEST="true"
        )
        row = parse(response.text).by_id(f"worklist-row-{customer.pk}")
        assert "The call is logged" in row.text and "promised to pay" in row.find(class_="last-call").text
        assert CollectionTask.objects.get().notice is None

    def test_a_bad_outcome_is_said_in_the_row(self, signed_in, issue, customer):
        overdue(issue, "100.00", 5)
        url = reverse("receivables:collection_call_log", args=[customer.pk])
        response = signed_in("clerk").post(url, {"outcome": "", "_from": "worklist"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and "Choose called, promised or disputed." in response.text
        assert not CollectionTask.objects.exists()

    def test_the_360_shows_the_last_call_and_the_owner_logs_one(self, signed_in, customer):
        client = signed_in("rep")
        url = reverse("crm:customer_detail", args=[customer.pk])
        panel = reverse("crm:customer_panel", args=[customer.pk, "collections"])  # lazy: after the page
        page = parse(client.get(panel).text)
        assert page.by_id("collections-no-call") and page.by_id("collections-log-call")
        back = url + "#collections-panel"
        response = client.post(
            reverse("receivables:collection_call_log", args=[customer.pk]),
            {"outcome": "disputed", "note": "Invoice 12 wrong", "next": back},
        )
        assert response.status_code == 302 and response.url == back
        text = parse(client.get(panel).text).by_id("collections-last-call").text
        assert "disputed" in text and "Rita Rep" in text and "Invoice 12 wrong" in text

    def test_another_rep_may_not_log_a_call(self, signed_in, customer):
        url = reverse("receivables:collection_call_log", args=[customer.pk])
        assert signed_in("other_rep").post(url, {"outcome": "called"}).status_code == 403
        assert not CollectionTask.objects.exists()


# --- the API -------------------------------------------------------------------------------


class TestApi:
    URL = "/api/v1/collection-tasks/log-call/"

    def test_a_clerk_logs_a_call_and_lists_it(self, token_client, clerk, customer):
        client = token_client(clerk)
        response = client.post(self.URL, {"customer": customer.pk, "outcome": "called", "note": "OK"}, format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["notice"] is None and body["status"] == "done" and body["outcome"] == "called"
        listed = client.get("/api/v1/collection-tasks/", {"customer": customer.pk}).json()["results"]
        assert [row["id"] for row in listed] == [body["id"]]

    @pytest.mark.parametrize(
        "body",
        [
            {"customer": "missing", "outcome": "called"},
            {"customer": 10**30, "outcome": "called"},
            {"customer": "x", "outcome": "called"},
            {"customer": 0, "outcome": "called"},
            {"customer": None, "outcome": "called"},
            {"outcome": "nope"},
        ],
    )
    def test_bad_input_is_a_400(self, token_client, clerk, customer, body):
        body = {"customer": customer.pk, **body}
        if body["customer"] == "missing":
            del body["customer"]
        assert token_client(clerk).post(self.URL, body, format="json").status_code == 400
        assert not CollectionTask.objects.exists()

    def test_another_rep_is_refused_with_a_403(self, token_client, other_rep, customer):
        response = token_client(other_rep).post(self.URL, {"customer": customer.pk, "outcome": "called"}, format="json")
        assert response.status_code == 403 and not CollectionTask.objects.exists()


def test_every_rep_logs_calls_with_their_own_customers(other_rep):
    globex = CustomerFactory(owner=other_rep)
    assert dunning.log_call(customer=globex, by=other_rep, outcome="called").customer == globex
