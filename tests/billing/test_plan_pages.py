"""The recurring billing pages: plans (list, record page, create and edit, stop and
activate) and runs ("Run billing now", the progress partial the page polls, the
summary). Who may: everyone reads, finance managers keep plans, clerks and managers
run billing."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import plans
from billing.models import BillingPlan, BillingRun, Invoice
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LINE = {"description": "Support 24/7", "quantity": "1", "unit_price": "100.00"}


@pytest.fixture
def plan(finance_manager, customer, vat):
    return plans.create_plan(
        by=finance_manager,
        customer=customer,
        data={"name": "Support 24/7", "interval": "monthly", "start_date": date(2026, 1, 1)},
        lines=[{**LINE, "tax_rate": vat}],
    )


def form_data(**fields):
    data = {
        "name": "Hosting",
        "interval": "quarterly",
        "start_date": "2026-04-01",
        "end_date": "",
        "auto_issue": "on",
        "lines-count": "2",
        "lines-0-description": "Hosting",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "49.99",
        "lines-0-discount_percent": "",
        "lines-0-tax_rate": "",
        "lines-0-product": "",
        "lines-1-description": "",  # a blank row is dropped
        "_action": "save",
    }
    data.update(fields)
    return data


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["rep", "sales_manager", "clerk", "finance_manager", "admin"])
def test_everyone_reads_plans_and_runs(signed_in, plan, actor):
    client = signed_in(actor)
    run = plans.run_billing(as_of=date(2026, 1, 5))
    for url in (
        reverse("billing:plan_list"),
        plan.get_absolute_url(),
        reverse("billing:run_list"),
        run.get_absolute_url(),
        reverse("billing:run_progress", args=[run.pk]),
    ):
        assert client.get(url).status_code == 200, url


def test_without_a_role_nothing_is_shown(signed_in, client, plan):
    signed_in("outsider")
    assert client.get(reverse("billing:plan_list")).status_code == 403
    assert client.get(reverse("billing:run_list")).status_code == 403
    client.logout()
    assert client.get(reverse("billing:plan_list")).status_code == 302


@pytest.mark.parametrize(("actor", "manages"), [("rep", False), ("clerk", False), ("finance_manager", True)])
def test_only_finance_managers_keep_plans(signed_in, plan, actor, manages):
    client = signed_in(actor)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert ('id="edit-plan"' in page) is manages and ('id="stop-plan"' in page) is manages
    assert ('id="new-plan"' in client.get(reverse("billing:plan_list")).content.decode()) is manages
    expected = 200 if manages else 403
    assert client.get(reverse("billing:plan_edit", args=[plan.pk])).status_code == expected
    assert client.get(reverse("billing:plan_create")).status_code == expected
    response = client.post(reverse("billing:plan_active", args=[plan.pk]), {"is_active": "0"})
    assert response.status_code == (302 if manages else 403)
    plan.refresh_from_db()
    assert plan.is_active is not manages


@pytest.mark.parametrize(("actor", "runs"), [("rep", False), ("sales_manager", False), ("clerk", True)])
def test_clerks_and_managers_run_billing(signed_in, actor, runs, django_capture_on_commit_callbacks):
    client = signed_in(actor)
    assert ('id="run-billing"' in client.get(reverse("billing:run_list")).content.decode()) is runs
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("billing:run_start"), {"as_of": str(timezone.localdate())})
    assert response.status_code == (302 if runs else 403)
    assert BillingRun.objects.exists() is runs


# --- plans -----------------------------------------------------------------------------------


def test_a_plan_is_created_with_its_lines_from_the_form(signed_in, customer):
    client = signed_in("finance_manager")
    url = f"{reverse('billing:plan_create')}?customer={customer.pk}"
    page = client.get(url).content.decode()
    assert f"New billing plan for {customer.name}" in page
    response = client.post(url, form_data())
    plan = BillingPlan.objects.get()
    assert response.status_code == 302 and response.url == plan.get_absolute_url()
    assert (plan.name, plan.interval, plan.next_invoice_date, plan.auto_issue) == (
        "Hosting",
        "quarterly",
        date(2026, 4, 1),
        True,
    )
    assert [(line.description, str(line.amount)) for line in plan.lines.all()] == [("Hosting", "99.98")]


def test_the_customer_is_chosen_first(signed_in, customer):
    client = signed_in("finance_manager")
    page = client.get(reverse("billing:plan_create"), {"q": "acme"}).content.decode()
    assert customer.name in page and f"?customer={customer.pk}" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"end_date": "2026-01-01"}, "The end date cannot be before the start date."),
        ({"auto_issue": "", "auto_send": "on"}, "turn on auto-issue too"),
        ({"lines-0-quantity": "-1"}, "Line 1: The quantity must be more than 0."),
        ({"lines-0-description": "", "lines-0-quantity": "", "lines-0-unit_price": ""}, "Add at least one line"),
        ({"start_date": ""}, "This field is required."),
    ],
)
def test_a_bad_plan_is_shown_again_with_the_reason(signed_in, customer, fields, message):
    client = signed_in("finance_manager")
    response = client.post(f"{reverse('billing:plan_create')}?customer={customer.pk}", form_data(**fields))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BillingPlan.objects.exists()


def test_rows_are_added_and_removed_without_saving(signed_in, customer):
    client = signed_in("finance_manager")
    url = f"{reverse('billing:plan_create')}?customer={customer.pk}"
    page = client.post(url, form_data(_action="add")).content.decode()
    assert 'name="lines-2-description"' in page and not BillingPlan.objects.exists()
    page = client.post(url, {**form_data(), "_remove": "0"}).content.decode()
    assert 'value="Hosting"' not in page.split('id="lines-panel"')[1] and not BillingPlan.objects.exists()


def test_editing_a_plan_replaces_its_lines_and_refuses_a_stale_version(signed_in, plan, finance_manager):
    client = signed_in("finance_manager")
    url = reverse("billing:plan_edit", args=[plan.pk])
    assert 'value="Support 24/7"' in client.get(url).content.decode()
    plans.update_plan(plan=plan, by=finance_manager, data={"name": "Changed meanwhile"})
    stale = client.post(url, form_data(version="1", start_date="2026-01-01"))
    assert stale.status_code == 409 and "changed by someone else" in stale.content.decode()
    response = client.post(url, form_data(version="2", start_date="2026-01-01"))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.name == "Hosting" and [line.description for line in plan.lines.all()] == ["Hosting"]


def test_the_plan_page_shows_its_invoices_and_what_is_due(signed_in, plan, clerk):
    plans.run_billing(as_of=date(2026, 2, 5), by=clerk)
    page = signed_in("rep").get(plan.get_absolute_url()).content.decode()
    for invoice in Invoice.objects.all():
        assert invoice.number in page
    assert "February 2026" in page and "January 2026" in page
    assert 'id="plan-due"' in page  # March onwards is due by today


def test_stopping_and_activating_from_the_page(signed_in, plan):
    client = signed_in("finance_manager")
    client.post(reverse("billing:plan_active", args=[plan.pk]), {"is_active": "0", "version": "1"})
    plan.refresh_from_db()
    assert not plan.is_active
    assert 'id="activate-plan"' in client.get(plan.get_absolute_url()).content.decode()
    response = client.post(
        reverse("billing:plan_active", args=[plan.pk]), {"is_active": "1", "version": "2"}, follow=True
    )
    assert "due now will be billed by the next run" in response.content.decode()


@pytest.mark.parametrize("rows", [2, 12])
def test_the_plan_list_costs_the_same_queries_for_few_or_many(
    client, clerk, finance_manager, vat, rows, django_assert_max_num_queries
):
    for index in range(rows):
        plans.create_plan(
            by=finance_manager,
            customer=CustomerFactory(),
            data={"name": f"Plan {index}", "interval": "monthly", "start_date": date(2026, 1, 1)},
            lines=[{**LINE, "tax_rate": vat}, LINE],
        )
    client.force_login(clerk)
    client.get(reverse("billing:plan_list"))  # warm the session and permission caches
    with django_assert_max_num_queries(3):  # the user, the count, the page of rows with their amounts
        page = client.get(reverse("billing:plan_list")).content.decode()
    assert page.count("200.00") == rows


def test_the_plan_list_filters(signed_in, plan, finance_manager):
    other = plans.create_plan(
        by=finance_manager,
        customer=CustomerFactory(name="Globex"),
        data={"name": "Licences", "interval": "yearly", "start_date": date(2026, 1, 1)},
        lines=[LINE],
    )
    plans.stop_plan(plan=other, by=finance_manager)
    client = signed_in("rep")
    page = client.get(reverse("billing:plan_list"), {"status": "stopped"}).content.decode()
    assert "Licences" in page and "Support 24/7" not in page
    page = client.get(reverse("billing:plan_list"), {"q": "acme"}).content.decode()
    assert "Support 24/7" in page and "Licences" not in page
    assert client.get(reverse("billing:plan_list"), {"status": "bogus"}).status_code == 200


# --- runs ------------------------------------------------------------------------------------


def test_run_billing_now_shows_the_run_with_its_progress(signed_in, plan, django_capture_on_commit_callbacks):
    client = signed_in("clerk")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("billing:run_start"), {"as_of": str(timezone.localdate())})
    run = BillingRun.objects.get()
    assert response.url == run.get_absolute_url() and len(queued) == 1
    page = client.get(run.get_absolute_url()).content.decode()
    assert f'hx-get="{reverse("billing:run_progress", args=[run.pk])}?shown=pending"' in page
    assert 'hx-trigger="every 1s"' in page and "<progress" in page and 'role="status"' in page
    assert "Waiting for a worker" in page

    queued[0]()  # the worker runs it
    partial = client.get(reverse("billing:run_progress", args=[run.pk]), {"shown": "pending"}).content.decode()
    assert "hx-trigger" not in partial  # done: the polling stops
    assert 'id="run-summary"' in partial and 'hx-swap-oob="innerHTML"' in partial
    assert "Billing run done" in partial


def test_the_progress_partial_polls_while_running_and_announces_only_changes(signed_in):
    run = BillingRun.objects.create(as_of=date(2026, 1, 5), status=BillingRun.Status.RUNNING, plans_total=8)
    BillingRun.objects.filter(pk=run.pk).update(plans_done=2, invoices_created=3)
    client = signed_in("clerk")
    url = reverse("billing:run_progress", args=[run.pk])
    partial = client.get(url, {"shown": "running"}).content.decode()
    assert 'value="25"' in partial and "2 of 8 plans processed (25%)" in partial
    assert 'hx-trigger="every 1s"' in partial and "?shown=running" in partial
    assert "hx-swap-oob" not in partial  # nothing new to announce
    assert "hx-swap-oob" in client.get(url, {"shown": "pending"}).content.decode()
    assert "no-cache" in client.get(url).headers["Cache-Control"]


def test_the_summary_lists_failures_with_links(signed_in, finance_manager, rep, clerk):
    lacking = CustomerFactory(owner=rep, name="No Tax Id AG", tax_id="")
    failing = plans.create_plan(
        by=finance_manager,
        customer=lacking,
        data={"name": "Failing plan", "interval": "monthly", "start_date": date(2026, 1, 1)},
        lines=[LINE],
    )
    run = plans.run_billing(as_of=date(2026, 1, 5), by=clerk)
    page = signed_in("rep").get(run.get_absolute_url()).content.decode()
    assert 'id="run-failures"' in page and "cannot be invoiced yet" in page
    assert failing.get_absolute_url() in page and lacking.get_absolute_url() in page
    assert 'hx-trigger="every 1s"' not in page and "Billing run done" in page


def test_a_second_run_is_refused_and_the_first_one_shown(signed_in, django_capture_on_commit_callbacks):
    client = signed_in("clerk")
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("billing:run_start"), {"as_of": str(timezone.localdate())})
        first = BillingRun.objects.get()
        assert 'id="run-under-way"' in client.get(reverse("billing:run_list")).content.decode()
        response = client.post(reverse("billing:run_start"), {"as_of": str(timezone.localdate())}, follow=True)
    assert response.redirect_chain[-1][0] == first.get_absolute_url()
    assert "is under way" in response.content.decode()
    assert BillingRun.objects.count() == 1


@pytest.mark.parametrize("as_of", [lambda: str(timezone.localdate() + timedelta(days=1)), lambda: "not a date"])
def test_a_run_for_a_day_to_come_or_no_day_is_refused(signed_in, as_of):
    response = signed_in("clerk").post(reverse("billing:run_start"), {"as_of": as_of()}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("billing:run_list")
    assert not BillingRun.objects.exists()
    assert "alert" in response.content.decode()


@pytest.mark.parametrize("rows", [2, 12])
def test_the_run_list_costs_the_same_queries_for_few_or_many(client, clerk, rows, django_assert_max_num_queries):
    for index in range(rows):
        BillingRun.objects.create(
            as_of=date(2026, 1, 1) + timedelta(days=index), status=BillingRun.Status.DONE, started_by=clerk
        )
    client.force_login(clerk)
    client.get(reverse("billing:run_list"))
    with django_assert_max_num_queries(5):  # user, count, rows, the run under way, plans due today
        assert client.get(reverse("billing:run_list")).status_code == 200


def test_junk_in_the_plan_form_is_never_a_server_error(signed_in, customer, plan):
    """The fuzz of every page (tests/test_form_fuzz.py) never reaches the plan form,
    which needs a customer: junk goes into each of its fields here."""
    from tests.test_form_fuzz import JUNK

    client = signed_in("finance_manager")
    urls = [f"{reverse('billing:plan_create')}?customer={customer.pk}", reverse("billing:plan_edit", args=[plan.pk])]
    for url in urls:
        for name in [*form_data(), "version", "_remove", "lines-0-product", "lines-0-tax_rate"]:
            for junk in JUNK[::4]:
                response = client.post(url, {**form_data(), name: junk})
                assert response.status_code < 500, (url, name, junk[:20])
    for junk in JUNK[::3]:
        assert client.post(reverse("billing:plan_active", args=[plan.pk]), {"version": junk}).status_code < 500
        assert signed_in("clerk").post(reverse("billing:run_start"), {"as_of": junk}).status_code < 500
