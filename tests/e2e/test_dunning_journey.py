"""Dunning in a real browser. The clerk previews a run and sees a customer skipped
because of a late-stage deal, runs it and watches the progress bar until the run is
done, then opens a notice as sent. The rep finds, on their home page, the hold on their
customer and the call dunning asks of them, and logs its outcome with one click.

The run's batches are held back (no worker in the browser tests: Celery runs eagerly)
and handed over by the test once the progress bar shows, as a worker would take them."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from billing import services as billing
from receivables import dunning
from receivables.dunning import runs
from receivables.models import CollectionTask, DunningNotice, DunningRun
from receivables.tasks import dunning_batch
from tests.factories import CustomerFactory, OpportunityFactory, stage

pytestmark = pytest.mark.e2e


def overdue(clerk, customer, amount, days_overdue):
    invoice = billing.create_invoice(
        by=clerk,
        customer=customer,
        data={"payment_days": 30},
        lines=[{"description": "Services", "quantity": "1", "unit_price": amount}],
    )
    issued_on = date.today() - timedelta(days=30 + days_overdue)
    return billing.issue_invoice(invoice=invoice, by=clerk, on=issued_on, render=False)


def test_a_clerk_previews_runs_and_reads_a_notice(
    page, live_server, clerk, rep, customer, sign_in, snap, console_errors, monkeypatch
):
    held_back = []
    monkeypatch.setattr(runs, "_dispatch", lambda run_id, ids: held_back.append((run_id, ids)))
    globex = CustomerFactory(owner=rep, name="Globex Corp", email="ap@globex.example")
    invoice = overdue(clerk, globex, "1200.00", 5)
    overdue(clerk, customer, "800.00", 5)
    OpportunityFactory(customer=customer, stage=stage("Negotiation"), name="Renewal 2027")
    sign_in(clerk)

    page.goto(f"{live_server.url}/receivables/dunning/")
    page.get_by_role("link", name="New run").click()
    page.get_by_role("button", name="Preview").click()
    skipped = page.locator(f"#preview-customer-{customer.pk}")
    expect(skipped).to_contain_text("late-stage deal")
    expect(skipped).to_contain_text("Renewal 2027")
    expect(page.locator(f"#preview-customer-{globex.pk}")).to_contain_text(invoice.number)
    snap("preview", show=skipped)

    page.get_by_role("button", name="Run").click()
    bar = page.locator("#run-progress-bar")
    expect(bar).to_be_visible()
    expect(page.locator("#run-progress-text")).to_contain_text("0 of 1 notice done")
    snap("running", show=bar)

    # A worker takes the batch: the page, polling every second, shows the run finish.
    ((run_id, customer_ids),) = held_back
    dunning_batch(run_id, customer_ids)
    expect(page.locator("#run-status")).to_have_text("Done", timeout=10_000)
    expect(bar).to_have_count(0)
    expect(page.locator("#summary-sent")).to_have_text("1")
    expect(page.locator("#summary-skipped")).to_contain_text("late-stage deal")
    snap("done", show=page.locator("#run-progress"))

    page.locator("#run-notices").get_by_role("link", name="Globex Corp").click()
    notice = DunningNotice.objects.get(run_id=run_id)
    expect(page.locator("#notice-subject")).to_have_text(notice.subject)
    expect(page.locator("#notice-body")).to_contain_text(invoice.number)
    expect(page.locator("#notice-lines")).to_contain_text("1,200.00")
    snap("notice")
    assert DunningRun.objects.get().status == DunningRun.Status.DONE

    # The worklist: the held customer's row says why; a hold set inline redraws only that row.
    page.get_by_role("navigation").get_by_role("link", name="Collections").click()
    row = page.locator(f"#worklist-row-{customer.pk}")
    expect(row).to_contain_text("Renewal 2027")
    row.locator("summary").click()
    row.get_by_label("Reason to hold").fill("Waiting for the signed PO")
    row.get_by_role("button", name="Hold").click()
    expect(row).to_contain_text("Reminders are held.")
    expect(row).to_contain_text("Waiting for the signed PO")
    snap("worklist", show=row)
    assert console_errors == []


def test_a_rep_sees_the_hold_and_logs_the_call_from_home(
    page, live_server, clerk, rep, customer, sign_in, snap, console_errors, django_capture_on_commit_callbacks
):
    overdue(clerk, customer, "2500.00", 22)  # the owner's call (+21) is due
    with django_capture_on_commit_callbacks(execute=True):
        dunning.run_dunning(as_of=date.today(), by=clerk)
    task = CollectionTask.objects.get()
    dunning.set_dunning_hold(customer=customer, by=clerk, reason="CFO on holiday until the 20th")
    sign_in(rep)

    card = page.locator("#my-collections")
    expect(card).to_contain_text("CFO on holiday until the 20th")
    item = page.locator(f"#collection-task-{task.pk}")
    expect(item).to_contain_text(customer.name)
    snap("home", show=card)

    item.get_by_role("button", name="Promised to pay").click()
    expect(page.locator(".alert-success")).to_contain_text("The call is logged")
    expect(page.locator("#no-collection-tasks")).to_be_visible()
    snap("logged", show=card)

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    panel = page.locator("#collections-panel")
    expect(panel).to_contain_text("CFO on holiday until the 20th")
    expect(panel.locator("#collections-dispute")).to_be_visible()
    snap("customer-360", show=panel)
    task.refresh_from_db()
    assert task.outcome == CollectionTask.Outcome.PROMISED and task.done_by == rep
    assert console_errors == []


AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}


def test_finance_resolves_a_dispute_and_edits_a_policy(
    browser, live_server, clerk, finance_manager, customer, snap, request
):
    """The clerk finds the dispute from the navigation, is told a credit needs a credit
    note, rejects it with a note and sees it resolved; the finance manager adds a level to
    the default policy. axe finds nothing on the pages on the way (its own context: axe
    is injected past the CSP, as in test_accessibility)."""
    from axe_playwright_python.sync_playwright import Axe

    from tests.e2e.conftest import PASSWORD

    invoice = overdue(clerk, customer, "900.00", 12)
    dispute = dunning.open_dispute(invoice=invoice, by=clerk, amount="150.00", reason="Two licences never used")
    axe, found = Axe(), {}
    context = browser.new_context(bypass_csp=True, locale="en-GB", reduced_motion="reduce")
    request.addfinalizer(context.close)
    page = context.new_page()

    def sign_in(user):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login/" not in url)

    def check(name):
        violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        if violations:
            found[name] = [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]

    sign_in(clerk)
    page.get_by_role("navigation").get_by_role("link", name="Disputes").click()
    check("disputes")
    page.get_by_role("link", name=f"Dispute on invoice {invoice.number}").click()
    expect(page.locator("#dispute-reason")).to_have_text("Two licences never used")
    expect(page.locator("#make-credit-note")).to_be_visible()
    check("dispute")
    page.get_by_label("Credited in part: a credit note covers some of it").check()
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#resolve-form")).to_contain_text("Choose the credit note that resolves the dispute.")
    check("dispute with errors")
    page.get_by_label("Rejected: the invoice stands").check()
    page.get_by_label("Note", exact=True).fill("The licences were activated on 3 March")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#dispute-status")).to_have_text("Rejected")
    expect(page.locator("#dispute-resolution-note")).to_have_text("The licences were activated on 3 March")
    snap("dispute-resolved")
    dispute.refresh_from_db()
    assert dispute.status == dispute.Status.REJECTED and dispute.resolved_by == clerk

    page.context.clear_cookies()
    sign_in(finance_manager)
    page.goto(f"{live_server.url}/receivables/dunning/policies/")
    check("policies")
    page.get_by_role("link", name="Standard").click()
    check("policy form")
    levels = page.locator(".level-row").count()
    page.get_by_role("button", name="Add a level").click()
    expect(page.locator(".level-row")).to_have_count(levels + 1)
    new = page.locator(f"#level-{levels}")
    new.get_by_label("Days after due").fill("45")
    new.get_by_role("textbox", name="Name").fill("Collection agency")
    new.get_by_label("Subject").fill("{level}: {customer.nmae}")
    page.get_by_role("button", name="Save changes").click()
    expect(new).to_contain_text("Unknown field {customer.nmae}")
    check("policy form with errors")
    new.get_by_label("Subject").fill("{level}: {customer.name}")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".alert-success")).to_contain_text("is saved")
    assert dunning.get_default_policy().levels.filter(name="Collection agency", days_after_due=45).exists()
    assert found == {}, found
