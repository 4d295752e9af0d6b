"""The recurring billing API: /billing-plans/ (finance managers keep them, everyone
reads them, ETag/If-Match) and /billing-runs/ (start one, poll its progress and
summary, 409 while one is under way)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from billing import plans
from billing.models import BillingPlan, BillingRun
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/billing-plans/"
RUNS = "/api/v1/billing-runs/"


@pytest.fixture
def as_actor(actors, token_client):
    return lambda name, scope="write": token_client(actors[name], scope=scope)


@pytest.fixture
def body(customer, vat):
    return {
        "customer": customer.pk,
        "name": "Support 24/7",
        "interval": "monthly",
        "start_date": "2026-01-31",
        "lines": [
            {"description": "Support 24/7", "quantity": "1", "unit_price": "100.00", "tax_rate": vat.pk},
            {"description": "Hosting", "quantity": "2", "unit_price": "49.99", "discount_percent": "10"},
        ],
    }


@pytest.fixture
def plan(finance_manager, customer):
    return plans.create_plan(
        by=finance_manager,
        customer=customer,
        data={"name": "Support", "interval": "quarterly", "start_date": date(2026, 1, 1)},
        lines=[{"description": "Support", "quantity": "1", "unit_price": "300.00"}],
    )


def error(response):
    return response.json()["error"]


# --- plans -----------------------------------------------------------------------------------


def test_a_finance_manager_creates_a_plan_with_its_lines(as_actor, body, customer):
    response = as_actor("finance_manager").post(PLANS, body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert response["ETag"] == '"1"'
    assert (data["customer_name"], data["currency"], data["next_invoice_date"], data["amount"]) == (
        customer.name,
        customer.currency,
        "2026-01-31",
        "189.98",
    )
    assert [line["amount"] for line in data["lines"]] == ["100.00", "89.98"]
    assert data["is_active"] and data["auto_issue"] and not data["auto_send"]
    assert BillingPlan.objects.get().lines.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": "2025-12-31"}, "end_date"),
        ({"lines": []}, "lines"),
        ({"lines": [{"description": "x", "quantity": "0", "unit_price": "1"}]}, "lines"),
        ({"auto_issue": False, "auto_send": True}, "auto_send"),
        ({"interval": "weekly"}, "interval"),
        ({"start_date": "0001-01-01"}, "start_date"),
        ({"customer": 10**12}, "customer"),
        ({"lines": [{"product": 10**12, "quantity": "1"}]}, "lines"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field(as_actor, body, change, field):
    response = as_actor("finance_manager").post(PLANS, {**body, **change})
    assert response.status_code == 400, response.json()
    assert field in error(response)["fields"], error(response)
    assert not BillingPlan.objects.exists()


def test_a_plan_without_lines_is_refused(as_actor, body):
    body.pop("lines")
    response = as_actor("finance_manager").post(PLANS, body)
    assert response.status_code == 400 and "lines" in error(response)["fields"]


@pytest.mark.parametrize("actor", ["rep", "sales_manager", "clerk"])
def test_everyone_reads_plans_but_only_finance_managers_keep_them(as_actor, plan, body, actor):
    client = as_actor(actor)
    assert client.get(PLANS).json()["results"][0]["id"] == plan.pk
    assert client.get(f"{PLANS}{plan.pk}/").status_code == 200
    assert client.post(PLANS, body).status_code == 403
    assert client.patch(f"{PLANS}{plan.pk}/", {"name": "Mine"}).status_code == 403
    assert client.delete(f"{PLANS}{plan.pk}/").status_code in (403, 405)  # plans are stopped, never deleted
    assert BillingPlan.objects.filter(pk=plan.pk).exists()


def test_changing_and_stopping_a_plan_with_if_match(as_actor, plan):
    client = as_actor("finance_manager")
    url = f"{PLANS}{plan.pk}/"
    read = client.get(url)
    assert read["ETag"] == '"1"' and read.json()["amount"] == "300.00"
    changed = client.patch(
        url,
        {"name": "Premium support", "lines": [{"description": "Premium", "quantity": "1", "unit_price": "450"}]},
        HTTP_IF_MATCH='"1"',
    )
    assert changed.status_code == 200 and changed["ETag"] == '"2"'
    assert (changed.json()["name"], changed.json()["amount"]) == ("Premium support", "450.00")
    stale = client.patch(url, {"is_active": False}, HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    stopped = client.patch(url, {"is_active": False}, HTTP_IF_MATCH='"2"')
    assert stopped.status_code == 200 and stopped.json()["is_active"] is False
    moved = client.patch(url, {"customer": CustomerFactory().pk})
    assert moved.status_code == 400 and "customer" in error(moved)["fields"]


def test_the_start_date_stays_once_a_period_is_invoiced(as_actor, plan, clerk):
    plans.run_billing(as_of=date(2026, 1, 5), by=clerk)
    response = as_actor("finance_manager").patch(f"{PLANS}{plan.pk}/", {"start_date": "2026-02-01"})
    assert response.status_code == 400 and "start_date" in error(response)["fields"]


def test_plans_are_filtered(as_actor, plan, finance_manager):
    other = plans.create_plan(
        by=finance_manager,
        customer=CustomerFactory(name="Globex"),
        data={"name": "Licences", "interval": "yearly", "start_date": date(2026, 1, 1)},
        lines=[{"description": "Licences", "quantity": "1", "unit_price": "1000"}],
    )
    plans.stop_plan(plan=other, by=finance_manager)
    client = as_actor("rep")

    def ids(**params):
        response = client.get(PLANS, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(status="stopped") == [other.pk]
    assert ids(status="active") == [plan.pk]
    assert ids(customer=plan.customer_id) == [plan.pk]
    assert ids(interval="yearly") == [other.pk]
    assert ids(q="globex") == [other.pk]
    assert client.get(PLANS, {"status": "bogus"}).status_code == 400


# --- runs ------------------------------------------------------------------------------------


def test_a_clerk_starts_a_run_and_polls_it(as_actor, plan, django_capture_on_commit_callbacks):
    client = as_actor("clerk")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(RUNS, {"as_of": str(timezone.localdate())})
    assert response.status_code == 202, response.json()
    run = response.json()
    assert run["status"] == "pending" and response["Location"] == run["url"]
    assert run["started_by_name"] == "Clara Clerk"

    queued[0]()  # the worker
    done = client.get(f"{RUNS}{run['id']}/").json()
    assert done["status"] == "done" and done["percent_done"] == 100
    assert done["invoices_created"] == done["invoices_issued"] >= 1
    assert done["failures"] == [] and done["finished_at"]


def test_a_second_run_is_refused_with_409_naming_the_first(as_actor, django_capture_on_commit_callbacks):
    client = as_actor("clerk")
    with django_capture_on_commit_callbacks(execute=False):
        first = client.post(RUNS, {}).json()
        response = client.post(RUNS, {})
    assert response.status_code == 409
    assert error(response)["code"] == "run_in_progress" and error(response)["run"] == first["id"]
    assert BillingRun.objects.count() == 1


@pytest.mark.parametrize(
    ("as_of", "status"),
    [(lambda: str(timezone.localdate() + timedelta(days=1)), 400), (lambda: "soon", 400), (lambda: 20260101, 400)],
)
def test_a_run_for_a_day_to_come_or_no_date_is_refused(as_actor, as_of, status):
    response = as_actor("clerk").post(RUNS, {"as_of": as_of()})
    assert response.status_code == status and "as_of" in error(response)["fields"]
    assert not BillingRun.objects.exists()


@pytest.mark.parametrize("actor", ["rep", "sales_manager"])
def test_sales_read_runs_but_never_start_one(as_actor, actor, clerk):
    run = plans.run_billing(as_of=date(2026, 1, 5), by=clerk)
    client = as_actor(actor)
    assert client.get(RUNS).json()["results"][0]["id"] == run.pk
    assert client.post(RUNS, {}).status_code == 403
    assert BillingRun.objects.count() == 1


def test_a_run_shows_its_failures(as_actor, finance_manager, rep, clerk):
    lacking = CustomerFactory(owner=rep, name="No Tax Id AG", tax_id="")
    failing = plans.create_plan(
        by=finance_manager,
        customer=lacking,
        data={"name": "Failing", "interval": "monthly", "start_date": date(2026, 1, 1)},
        lines=[{"description": "x", "quantity": "1", "unit_price": "10"}],
    )
    run = plans.run_billing(as_of=date(2026, 1, 5), by=clerk)
    (failure,) = as_actor("rep").get(f"{RUNS}{run.pk}/").json()["failures"]
    assert failure["plan"] == failing.pk and failure["customer"] == lacking.pk and failure["period"] == "2026-01-01"
    assert failure["invoice"] is None and "cannot be invoiced yet" in failure["message"]


def test_a_read_token_cannot_start_a_run(as_actor):
    assert as_actor("clerk", scope="read").post(RUNS, {}).status_code == 403


@pytest.mark.parametrize("rows", [2, 12])
def test_the_lists_cost_the_same_queries_for_few_or_many(
    as_actor, finance_manager, clerk, rows, django_assert_max_num_queries
):
    for index in range(rows):
        plans.create_plan(
            by=finance_manager,
            customer=CustomerFactory(),
            data={"name": f"Plan {index}", "interval": "monthly", "start_date": date(2026, 1, 1)},
            lines=[
                {"description": "x", "quantity": "1", "unit_price": "10"},
                {"description": "y", "quantity": "1", "unit_price": "5"},
            ],
        )
        BillingRun.objects.create(as_of=date(2026, 1, 1), status=BillingRun.Status.DONE, started_by=clerk)
    client = as_actor("clerk")
    client.get(PLANS), client.get(RUNS)  # warm the token and permission caches
    with django_assert_max_num_queries(4):  # the token, the page of plans with their amounts, their lines
        response = client.get(PLANS)
    assert len(response.json()["results"]) == rows and response.json()["results"][0]["amount"] == "15.00"
    with django_assert_max_num_queries(3):  # the token, the page of runs with who started them
        assert len(client.get(RUNS).json()["results"]) == rows
