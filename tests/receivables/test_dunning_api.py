"""The dunning API (receivables.api.dunning): policies, runs with preview and progress,
notices as sent, manual holds, disputes, promises and the owners' collection calls —
the same services as the pages; bad input a 400, who may not a 403, a state that
forbids it a 409; one permission matrix over the endpoints; list query counts pinned.

Invoices are issued on 1 March 2026 with 30 days to pay (due 31 March)."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing import services as billing
from billing.models import Invoice
from receivables import dunning
from receivables.models import CollectionTask, Dispute, DunningHold, DunningRun, PaymentPromise
from tests.factories import CustomerFactory, OpportunityFactory, stage

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DUE = date(2026, 3, 31)
API = "/api/v1/"


def on(days_overdue: int) -> date:
    return DUE + timedelta(days=days_overdue)


def error(response):
    return response.json()["error"]


@pytest.fixture
def as_actor(actors, token_client):
    return lambda name, scope="write": token_client(actors[name], scope=scope)


@pytest.fixture
def start(as_actor, django_capture_on_commit_callbacks):
    """start(actor, as_of) → the response to POST /dunning-runs/, its batches run (eager Celery)."""

    def post(actor, as_of, execute=True):
        with django_capture_on_commit_callbacks(execute=execute):
            return as_actor(actor).post(f"{API}dunning-runs/", {"as_of": as_of.isoformat()}, format="json")

    return post


LEVELS = [
    {"name": "Reminder", "days_after_due": 7},
    {"name": "Final", "days_after_due": 21, "channel": "letter", "fee": "5.00"},
]


# --- policies ------------------------------------------------------------------------------------


class TestPolicies:
    def test_a_finance_manager_creates_and_changes_a_policy_with_its_levels(self, as_actor):
        client = as_actor("finance_manager")
        response = client.post(f"{API}dunning-policies/", {"name": "Strict", "levels": LEVELS}, format="json")
        assert response.status_code == 201, response.json()
        data = response.json()
        assert [(level["name"], level["days_after_due"], level["fee"]) for level in data["levels"]] == [
            ("Reminder", 7, None),
            ("Final", 21, "5.00"),
        ]
        changed = client.put(
            data["url"], {"name": "Stricter", "levels": [{"name": "Only", "days_after_due": 3}]}, format="json"
        )
        assert changed.status_code == 200, changed.json()
        assert changed.json()["name"] == "Stricter" and len(changed.json()["levels"]) == 1
        listed = as_actor("clerk").get(f"{API}dunning-policies/").json()["results"]
        assert {policy["name"] for policy in listed} == {"Stricter"}

    def test_the_default_policy_is_listed_once_made(self, as_actor):
        dunning.get_default_policy()
        (policy,) = as_actor("clerk").get(f"{API}dunning-policies/").json()["results"]
        assert policy["is_default"] and [level["days_after_due"] for level in policy["levels"]] == [-3, 3, 14, 21, 30]

    @pytest.mark.parametrize(
        ("levels", "message"),
        [
            ([{"name": "A", "days_after_due": 7}, {"name": "B", "days_after_due": 7}], "overlap"),
            ([{"name": "A", "days_after_due": 14}, {"name": "B", "days_after_due": 7}], "in order"),
            ([{"name": "A", "days_after_due": 7, "subject_template": "Hi {customer.iban}"}], "customer.iban"),
            ([], ""),
        ],
    )
    def test_bad_levels_are_a_400_and_nothing_is_saved(self, as_actor, levels, message):
        response = as_actor("finance_manager").post(
            f"{API}dunning-policies/", {"name": "Bad", "levels": levels}, format="json"
        )
        assert response.status_code == 400, response.json()
        assert message in str(error(response))
        assert not dunning.policies.DunningPolicy.objects.filter(name="Bad").exists()

    def test_a_clerk_may_read_but_not_edit_policies(self, as_actor):
        response = as_actor("clerk").post(f"{API}dunning-policies/", {"name": "X", "levels": LEVELS}, format="json")
        assert response.status_code == 403

    def test_a_change_on_a_stale_etag_is_a_412_and_changes_nothing(self, as_actor):
        client = as_actor("finance_manager")
        url = client.post(f"{API}dunning-policies/", {"name": "Strict", "levels": LEVELS}, format="json").json()["url"]
        read = client.get(url)
        assert read.headers["ETag"] == '"1"'
        changed = client.put(url, {"name": "Theirs", "levels": LEVELS}, format="json", HTTP_IF_MATCH='"1"')
        assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
        for stale in ('"1"', "junk"):
            response = client.put(url, {"name": "Mine", "levels": LEVELS}, format="json", HTTP_IF_MATCH=stale)
            assert response.status_code == 412 and error(response)["code"] == "precondition_failed"
        assert client.get(url).json()["name"] == "Theirs"
        # Without If-Match the change goes ahead, as before.
        assert client.put(url, {"name": "Mine", "levels": LEVELS}, format="json").status_code == 200


# --- runs ---------------------------------------------------------------------------------------


class TestRuns:
    def test_the_preview_says_who_gets_what_and_who_is_skipped_why(self, as_actor, issue, customer):
        issue("100.00")
        held = CustomerFactory(owner=customer.owner, name="Held Ltd")
        issue("200.00", who=held)
        OpportunityFactory(customer=held, stage=stage("Negotiation"), name="Renewal 2027")
        response = as_actor("clerk").post(f"{API}dunning-runs/preview/", {"as_of": on(3).isoformat()}, format="json")
        assert response.status_code == 200, response.json()
        data = response.json()
        assert data["to_send"] == 1 and data["skipped_by_reason"] == {"deal": 1}
        plans = {plan["name"]: plan for plan in data["customers"]}
        assert plans["Acme Industries GmbH"]["level"] == "Friendly reminder"
        assert plans["Acme Industries GmbH"]["lines"][0]["balance"] == "100.00"
        (skip,) = plans["Held Ltd"]["skipped"]
        assert skip["reason"] == "deal" and "Renewal 2027" in skip["text"] and skip["invoice"] is None
        assert not DunningRun.objects.exists()

    def test_a_run_starts_with_202_and_shows_its_progress_and_notices(self, start, as_actor, issue, customer):
        invoice = issue("100.00")
        response = start("clerk", on(3))
        assert response.status_code == 202, response.json()
        run = as_actor("clerk").get(response.json()["url"]).json()
        assert (run["status"], run["percent_done"], run["notices_sent"]) == ("done", 100, 1)
        (notice,) = as_actor("clerk").get(f"{API}dunning-notices/", {"run": run["id"]}).json()["results"]
        assert notice["status"] == "sent" and notice["customer"] == customer.pk
        assert invoice.number in notice["body"] and notice["subject"] == mail.outbox[0].subject
        assert [line["invoice_number"] for line in notice["lines"]] == [invoice.number]
        assert as_actor("clerk").get(f"{API}dunning-notices/", {"customer": customer.pk + 1}).json()["results"] == []

    def test_a_future_date_is_a_400(self, start):
        response = start("clerk", TODAY + timedelta(days=1))
        assert response.status_code == 400 and "future" in error(response)["fields"]["as_of"][0]
        assert not DunningRun.objects.exists()

    def test_a_second_run_while_one_runs_is_a_409(self, start, issue):
        issue("100.00")
        assert start("clerk", on(3), execute=False).status_code == 202
        response = start("finance_manager", on(3))
        assert response.status_code == 409 and "in progress" in error(response)["message"]
        assert DunningRun.objects.count() == 1 and not mail.outbox

    @pytest.mark.parametrize("body", [{"as_of": "tomorrow"}, {"as_of": 20260101}, {"as_of": "99999-01-01"}, []])
    def test_bad_dates_are_400s(self, as_actor, body):
        assert as_actor("clerk").post(f"{API}dunning-runs/preview/", body, format="json").status_code == 400


# --- holds, disputes, promises, calls ---------------------------------------------------------------


class TestHolds:
    def test_a_clerk_holds_and_releases_and_the_rep_sees_it(self, as_actor, customer):
        response = as_actor("clerk").post(
            f"{API}dunning-holds/", {"customer": customer.pk, "reason": "Talks with the CFO"}, format="json"
        )
        assert response.status_code == 201, response.json()
        hold = response.json()
        assert (hold["reason"], hold["set_by"], hold["released_at"]) == ("Talks with the CFO", "Clara Clerk", None)
        assert [h["id"] for h in as_actor("rep").get(f"{API}dunning-holds/").json()["results"]] == [hold["id"]]
        assert as_actor("other_rep").get(f"{API}dunning-holds/").json()["results"] == []
        released = as_actor("clerk").post(f"{hold['url']}release/")
        assert released.status_code == 200 and released.json()["released_by"] == "Clara Clerk"
        again = as_actor("clerk").post(f"{hold['url']}release/")
        assert again.status_code == 409

    @pytest.mark.parametrize("reason", ["", "   ", None])
    def test_a_hold_without_a_reason_is_a_400(self, as_actor, customer, reason):
        body = {"customer": customer.pk, **({} if reason is None else {"reason": reason})}
        assert as_actor("clerk").post(f"{API}dunning-holds/", body, format="json").status_code == 400
        assert not DunningHold.objects.exists()

    def test_a_hold_on_another_customers_invoice_is_a_400(self, as_actor, customer, issue):
        other = CustomerFactory()
        invoice = issue("10.00", who=other)
        body = {"customer": customer.pk, "invoice": invoice.pk, "reason": "x"}
        assert as_actor("clerk").post(f"{API}dunning-holds/", body, format="json").status_code == 400


class TestHoldsInForce:
    def test_a_rep_sees_every_kind_of_hold_on_their_customers(self, as_actor, issue, customer, clerk):
        invoice = issue("100.00")
        OpportunityFactory(customer=customer, stage=stage("Negotiation"), name="Renewal 2027")
        dunning.open_dispute(invoice=invoice, by=clerk, amount="10", reason="Price")
        dunning.set_dunning_hold(customer=customer, by=clerk, reason="Talks")
        other = CustomerFactory(name="Not mine")
        dunning.set_dunning_hold(customer=other, by=clerk, reason="Elsewhere")
        (held,) = as_actor("rep").get(f"{API}dunning-holds/in-force/").json()
        assert held["customer"] == customer.pk
        assert {(reason["kind"], reason["invoice"]) for reason in held["reasons"]} == {
            ("deal", None),
            ("manual_hold", None),
            ("dispute", invoice.pk),
        }
        assert as_actor("other_rep").get(f"{API}dunning-holds/in-force/").json() == []
        every = as_actor("clerk").get(f"{API}dunning-holds/in-force/").json()
        assert {row["customer_name"] for row in every} == {"Acme Industries GmbH", "Not mine"}
        one = as_actor("clerk").get(f"{API}dunning-holds/in-force/", {"customer": other.pk}).json()
        assert [row["customer"] for row in one] == [other.pk]
        assert as_actor("clerk").get(f"{API}dunning-holds/in-force/", {"customer": "x"}).status_code == 400
        assert as_actor("outsider").get(f"{API}dunning-holds/in-force/").status_code == 403


class TestDisputes:
    def test_a_rep_opens_a_dispute_and_finance_resolves_it(self, as_actor, issue, clerk):
        invoice = issue("100.00")
        response = as_actor("rep").post(
            f"{API}disputes/", {"invoice": invoice.pk, "amount": "40.00", "reason": "Price"}, format="json"
        )
        assert response.status_code == 201, response.json()
        dispute = response.json()
        assert (dispute["status"], dispute["invoice_number"], dispute["amount"]) == ("open", invoice.number, "40.00")
        again = as_actor("clerk").post(
            f"{API}disputes/", {"invoice": invoice.pk, "amount": "1.00", "reason": "More"}, format="json"
        )
        assert again.status_code == 409
        assert (
            as_actor("rep").post(f"{dispute['url']}resolve/", {"outcome": "rejected", "note": "No"}).status_code == 403
        )
        no_note = as_actor("clerk").post(f"{dispute['url']}resolve/", {"outcome": "rejected"}, format="json")
        assert no_note.status_code == 400
        note = billing.credit_invoice(invoice=Invoice.objects.get(pk=invoice.pk), by=clerk, reason="Price")
        resolved = as_actor("clerk").post(
            f"{dispute['url']}resolve/", {"outcome": "credit", "credit_note": note.pk}, format="json"
        )
        assert resolved.status_code == 200, resolved.json()
        assert (resolved.json()["status"], resolved.json()["credit_note_number"]) == ("resolved_credit", note.number)
        assert (
            as_actor("clerk").post(f"{dispute['url']}resolve/", {"outcome": "rejected", "note": "x"}).status_code == 409
        )

    @pytest.mark.parametrize("amount", ["100.01", "0", "-5", "abc", "1e30"])
    def test_a_dispute_larger_than_the_invoice_or_not_an_amount_is_a_400(self, as_actor, issue, amount):
        invoice = issue("100.00")
        body = {"invoice": invoice.pk, "amount": amount, "reason": "Too much"}
        assert as_actor("rep").post(f"{API}disputes/", body, format="json").status_code == 400
        assert not Dispute.objects.exists()


class TestDisputesByOwner:
    @pytest.fixture
    def two_owners(self, issue, clerk, other_rep):
        """A dispute on the rep's customer and one on the other rep's."""
        mine = dunning.open_dispute(invoice=issue("100.00"), by=clerk, amount="10", reason="Price")
        globex = CustomerFactory(owner=other_rep, name="Globex Corp")
        theirs = dunning.open_dispute(invoice=issue("200.00", who=globex), by=clerk, amount="20", reason="Late")
        return mine, theirs

    def test_finance_lists_the_disputes_of_one_owners_customers(self, as_actor, two_owners, rep, other_rep):
        mine, theirs = two_owners
        client = as_actor("clerk")

        def listed(**query):
            response = client.get(f"{API}disputes/", query)
            assert response.status_code == 200, response.json()
            return [dispute["id"] for dispute in response.json()["results"]]

        assert listed(owner=rep.pk) == [mine.pk]
        assert listed(owner=other_rep.pk) == [theirs.pk]
        assert listed(owner=rep.pk, status="open") == [mine.pk]
        assert listed(owner=2**63 - 1) == []
        assert sorted(listed()) == sorted([mine.pk, theirs.pk])

    def test_a_rep_asking_for_another_owner_sees_none_of_their_disputes(self, as_actor, two_owners, rep, other_rep):
        mine, _theirs = two_owners
        client = as_actor("rep")
        assert [d["id"] for d in client.get(f"{API}disputes/", {"owner": rep.pk}).json()["results"]] == [mine.pk]
        assert client.get(f"{API}disputes/", {"owner": other_rep.pk}).json()["results"] == []

    @pytest.mark.parametrize("junk", ["", "x", "0", "-3", "1.5", "1e3", str(2**63), "9" * 5000, "1;DROP TABLE"])
    def test_a_junk_owner_is_a_400_naming_the_filter(self, as_actor, two_owners, junk):
        response = as_actor("clerk").get(f"{API}disputes/", {"owner": junk})
        assert response.status_code == 400
        assert response["Content-Type"].startswith("application/json")
        assert "owner" in error(response)["fields"]

    def test_the_schema_documents_the_owner_filter(self, api_client):
        schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        parameters = {p["name"]: p for p in schema["paths"]["/api/v1/disputes/"]["get"]["parameters"]}
        owner = parameters["owner"]
        assert owner["in"] == "query" and owner["schema"]["type"] in ("integer", "number")
        assert owner["schema"]["minimum"] == 1
        assert "owner" in owner["description"]


class TestPromises:
    def test_a_clerk_takes_and_cancels_a_promise(self, as_actor, issue, customer):
        issue("100.00")
        body = {"customer": customer.pk, "amount": "60.00", "promised_for": (TODAY + timedelta(days=7)).isoformat()}
        response = as_actor("clerk").post(f"{API}payment-promises/", body, format="json")
        assert response.status_code == 201, response.json()
        promise = response.json()
        assert (promise["status"], promise["balance_when_taken"], promise["taken_by"]) == (
            "active",
            "100.00",
            "Clara Clerk",
        )
        assert as_actor("clerk").post(f"{promise['url']}cancel/").json()["status"] == "cancelled"
        assert as_actor("clerk").post(f"{promise['url']}cancel/").status_code == 409

    @pytest.mark.parametrize(
        ("amount", "days", "field"), [("60.00", -1, "promised_for"), ("100.01", 7, "amount"), ("0", 7, "amount")]
    )
    def test_a_promise_in_the_past_or_above_the_balance_is_a_400(self, as_actor, issue, customer, amount, days, field):
        issue("100.00")
        body = {"customer": customer.pk, "amount": amount, "promised_for": (TODAY + timedelta(days=days)).isoformat()}
        response = as_actor("clerk").post(f"{API}payment-promises/", body, format="json")
        assert response.status_code == 400 and field in error(response)["fields"]
        assert not PaymentPromise.objects.exists()


class TestCollectionTasks:
    def test_the_owner_sees_their_calls_and_logs_one(self, as_actor, start, issue):
        issue("100.00")
        assert start("clerk", on(21)).status_code == 202
        (task,) = as_actor("rep").get(f"{API}collection-tasks/", {"mine": "true"}).json()["results"]
        assert task["status"] == "open" and task["owner"] == "Rita Rep"
        assert as_actor("clerk").get(f"{API}collection-tasks/", {"mine": "true"}).json()["results"] == []
        assert as_actor("other_rep").get(f"{API}collection-tasks/").json()["results"] == []
        bad = as_actor("rep").post(f"{task['url']}complete/", {"outcome": "shouted"}, format="json")
        assert bad.status_code == 400
        done = as_actor("rep").post(f"{task['url']}complete/", {"outcome": "promised", "note": "Friday"}, format="json")
        assert done.status_code == 200 and done.json()["outcome"] == "promised"
        assert as_actor("rep").post(f"{task['url']}complete/", {"outcome": "called"}, format="json").status_code == 409


# --- who may do what, as one matrix ------------------------------------------------------------------

ACTORS = ["rep", "other_rep", "sales_manager", "clerk", "finance_manager", "admin", "outsider"]
FINANCE_READERS = {"sales_manager", "clerk", "finance_manager", "admin"}
EVERY_ROLE = FINANCE_READERS | {"rep", "other_rep"}
FINANCE = {"clerk", "finance_manager", "admin"}
# endpoint → (the actors it answers 2xx, the code for those it refuses by default; 404 = it cannot see it)
MATRIX = {
    "list_policies": (FINANCE_READERS, {}),
    "create_policy": ({"finance_manager", "admin"}, {}),
    "list_runs": (FINANCE_READERS, {}),
    "preview_run": (FINANCE_READERS, {}),
    "start_run": (FINANCE, {}),
    "list_notices": (FINANCE_READERS, {}),
    "list_holds": (EVERY_ROLE, {}),
    "set_hold": (FINANCE, {}),
    "list_disputes": (EVERY_ROLE, {}),
    "open_dispute": ({"rep", "sales_manager"} | FINANCE, {}),
    "resolve_dispute": (FINANCE, {"other_rep": 404}),
    "list_promises": (EVERY_ROLE, {}),
    "take_promise": (FINANCE, {}),
    "list_tasks": (EVERY_ROLE, {}),
    "complete_task": ({"rep"} | FINANCE, {"other_rep": 404}),
    "log_call": ({"rep"} | FINANCE, {}),  # the account owner, or finance
}


@pytest.fixture
def matrix_setup(issue, customer, clerk, django_capture_on_commit_callbacks):
    invoice = issue("100.00")
    with django_capture_on_commit_callbacks(execute=True):
        dunning.run_dunning(as_of=on(21), by=clerk)
    task = CollectionTask.objects.get()
    dispute = dunning.open_dispute(invoice=invoice, by=clerk, amount="10", reason="Price")
    return {"invoice": invoice, "customer": customer, "task": task, "dispute": dispute}


def request(action, client, records):
    customer, invoice = records["customer"], records["invoice"]
    later = (TODAY + timedelta(days=3)).isoformat()
    if action.startswith("list_"):
        path = {
            "list_policies": "dunning-policies",
            "list_runs": "dunning-runs",
            "list_notices": "dunning-notices",
            "list_holds": "dunning-holds",
            "list_disputes": "disputes",
            "list_promises": "payment-promises",
            "list_tasks": "collection-tasks",
        }[action]
        return client.get(f"{API}{path}/")
    path, body = {
        "create_policy": ("dunning-policies/", {"name": "Strict", "levels": LEVELS}),
        "preview_run": ("dunning-runs/preview/", {"as_of": on(3).isoformat()}),
        "start_run": ("dunning-runs/", {"as_of": on(3).isoformat()}),
        "set_hold": ("dunning-holds/", {"customer": customer.pk, "reason": "Talks"}),
        "open_dispute": ("disputes/", {"invoice": invoice.pk, "amount": "5.00", "reason": "Quantity"}),
        "resolve_dispute": (f"disputes/{records['dispute'].pk}/resolve/", {"outcome": "rejected", "note": "No"}),
        "take_promise": ("payment-promises/", {"customer": customer.pk, "amount": "10.00", "promised_for": later}),
        "complete_task": (f"collection-tasks/{records['task'].pk}/complete/", {"outcome": "called"}),
        "log_call": ("collection-tasks/log-call/", {"customer": customer.pk, "outcome": "called", "note": "x"}),
    }[action]
    return client.post(f"{API}{path}", body, format="json")


@pytest.mark.parametrize("action", sorted(MATRIX))
@pytest.mark.parametrize("actor", ACTORS)
def test_the_dunning_api_permission_matrix(
    actor, action, as_actor, matrix_setup, clerk, django_capture_on_commit_callbacks
):
    if action == "open_dispute":  # one open dispute per invoice: make room for another
        dunning.resolve_dispute(dispute=matrix_setup["dispute"], by=clerk, outcome="rejected", note="Agreed")
    allowed, refused = MATRIX[action]
    with django_capture_on_commit_callbacks(execute=False):
        response = request(action, as_actor(actor), matrix_setup)
    if actor in allowed:
        assert 200 <= response.status_code < 300, (response.status_code, response.json())
    else:
        assert response.status_code == refused.get(actor, 403), response.json()


# --- query counts ---------------------------------------------------------------------------------

LISTS = [
    "dunning-policies",
    "dunning-runs",
    "dunning-notices",
    "dunning-holds",
    "disputes",
    "payment-promises",
    "collection-tasks",
]


def _one_of_each(issue, clerk, finance_manager, n: int) -> None:
    """A customer with two overdue invoices: one to remind, one held, disputed and
    promised; and a policy."""
    for_customer = CustomerFactory(name=f"Customer {n}")
    invoice = issue("100.00", who=for_customer)
    second = issue("50.00", who=for_customer)
    dunning.set_dunning_hold(customer=for_customer, by=clerk, reason=f"Hold {n}", invoice=second)
    dunning.open_dispute(invoice=second, by=clerk, amount="10", reason="Price")
    dunning.take_promise(customer=for_customer, by=clerk, amount="10", promised_for=TODAY, invoice=second)
    assert invoice.balance_due
    dunning.save_policy(by=finance_manager, name=f"Policy {n}", levels=LEVELS)


def _queries(client, path) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{API}{path}/")
    assert response.status_code == 200, response.json()
    assert response.json()["results"]
    return len(captured)


@pytest.mark.parametrize("path", LISTS)
def test_list_query_counts_do_not_grow_with_rows(
    path, as_actor, issue, clerk, finance_manager, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client = as_actor("finance_manager")
    _one_of_each(issue, clerk, finance_manager, 1)
    with django_capture_on_commit_callbacks(execute=True):
        dunning.run_dunning(as_of=on(21), by=clerk)
    client.get(f"{API}{path}/")  # warm: the token's user and permissions
    few = _queries(client, path)
    for n in range(2, 6):
        _one_of_each(issue, clerk, finance_manager, n)
    with django_capture_on_commit_callbacks(execute=True):
        dunning.run_dunning(as_of=on(22), by=clerk)
    many = _queries(client, path)
    assert many == few
    with django_assert_max_num_queries(PINNED[path]):
        client.get(f"{API}{path}/")


PINNED = {
    # token, user, permissions, the page (+ its prefetches)
    "dunning-policies": 5,
    "dunning-runs": 4,
    "dunning-notices": 7,
    "dunning-holds": 4,
    "disputes": 4,
    "payment-promises": 4,
    "collection-tasks": 4,
}
