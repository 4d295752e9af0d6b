"""axe-core over every page, for each role, at desktop and phone widths: 0 violations
of WCAG 2.0/2.1/2.2 A and AA.

PAGES is the list to extend: one row per page (or page state). A row names the path
(placeholders: {customer} is a customer the rep owns, with a contact; {others_customer}
one another rep owns), who it is for (a predicate on the user and the world), an
optional step that brings the page into the state to check (open a form, submit it),
and the HTTP status the path answers. Rows whose step changes data that other pages
show (a token makes its owner an integrator) go last.

One browser context per role and width (signed in once); every page is checked and
all violations are reported together: each rule's id, help and the nodes it found.
The sweep's context bypasses the CSP (only so axe can be injected).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from accounts.roles import ADMIN, FINANCE_MANAGER
from billing import plans as billing_plans
from billing import services as billing
from billing.permissions import can_credit, can_manage_plans
from collaboration import services as feed
from crm import cases, leads, opportunities, quotes
from crm import services as crm_services
from crm.models import Stage
from crm.permissions import (
    can_create_customer,
    can_create_lead,
    can_create_opportunity,
    can_edit_contacts,
    can_edit_customer,
    can_edit_lead,
    can_edit_opportunity,
)
from receivables import credit as receivables_credit
from receivables import dunning
from receivables import services as receivables
from receivables.models import DunningNotice
from receivables.permissions import (
    can_record_payment,
    can_run_dunning,
    can_set_holds,
    can_view_dunning,
    can_view_payments,
    can_view_standing,
)
from tests.e2e.conftest import PASSWORD
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.e2e

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
ROLES = ["rep", "sales_manager", "clerk", "finance_manager", "admin_user"]


def everyone(user, world) -> bool:
    return True


def may_view_customers(user, world) -> bool:
    return user.has_perm("crm.view_customer")


def may_edit(user, world) -> bool:
    return can_edit_customer(user, world.customer)


def may_create(user, world) -> bool:
    return can_create_customer(user)


def may_not_create(user, world) -> bool:
    return user.is_authenticated and not can_create_customer(user)


def may_not_edit_others(user, world) -> bool:
    return can_create_customer(user) and not can_edit_customer(user, world.others_customer)


def may_edit_contacts(user, world) -> bool:
    return can_edit_contacts(user, world.customer)


def may_create_leads(user, world) -> bool:
    return can_create_lead(user)


def may_edit_lead(user, world) -> bool:
    return user.is_authenticated and can_edit_lead(user, world.lead)


def may_create_deals(user, world) -> bool:
    return can_create_opportunity(user)


def may_edit_deal(user, world) -> bool:
    return user.is_authenticated and can_edit_opportunity(user, world.deal)


def may_credit(user, world) -> bool:
    return user.is_authenticated and can_credit(user)


def may_manage_plans(user, world) -> bool:
    return user.is_authenticated and can_manage_plans(user)


def may_view_receivables(user, world) -> bool:
    return can_view_payments(user)


def may_set_holds(user, world) -> bool:
    return user.is_authenticated and can_set_holds(user)


def may_view_standing(user, world) -> bool:
    return can_view_standing(user, world.customer)


def may_view_dunning(user, world) -> bool:
    return can_view_dunning(user)


def may_run_dunning(user, world) -> bool:
    return user.is_authenticated and can_run_dunning(user)


def anonymous(user, world) -> bool:
    return not user.is_authenticated


def signed_in(user, world) -> bool:
    return user.is_authenticated


# --- steps that bring a page into the state to check -------------------------------


def open_worklist_actions(page, width):
    page.locator("#worklist summary").first.click()
    # The row's forms are asked for when it is first opened.
    expect(page.locator("#worklist .worklist-action-forms form").first).to_be_visible()


def open_contact_form(page, width):
    page.locator("#contacts-panel").get_by_role("link", name="Add contact").click()
    # Focused once htmx has settled the form in: only then does it post with htmx.
    expect(page.get_by_role("form", name="New contact").get_by_label("Name*")).to_be_focused()


def submit_contact_form_with_errors(page, width):
    open_contact_form(page, width)
    form = page.get_by_role("form", name="New contact")
    form.get_by_label("Email").fill("not-an-email")
    form.get_by_role("button", name="Save contact").click()
    expect(form.locator(".invalid-feedback").first).to_be_visible()


def submit_with_a_required_field_cleared(page, width):
    # The first required field the role may type in: a rep's name, a clerk's payment days.
    expect(page.locator("form.customer-form")).to_be_visible()
    for field in ("#id_name", "#id_payment_days"):
        if page.locator(field).count() and page.locator(field).is_enabled():
            page.locator(field).fill("")
            break
    page.locator("form.customer-form [type=submit]").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()


def submit_empty(page, width):
    page.locator("form.customer-form [type=submit]").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()


def open_column_chooser(page, width):
    page.locator("#column-chooser > summary").click()
    expect(page.get_by_role("group", name="Optional columns")).to_be_visible()


def open_filters(page, width):
    page.get_by_role("button", name="Filters").click()
    expect(page.get_by_label("Owner")).to_be_visible()


def open_the_hold_form(page, width):
    page.locator("#set-hold").click()
    expect(page.locator("#id_hold_reason")).to_be_visible()


def type_in_the_country_list(page, width):
    country = page.get_by_role("combobox", name="Country")
    country.fill("ger")
    expect(page.get_by_role("listbox").first).to_be_visible()


def open_navigation_menu(page, width):
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("dialog", name="Menu")).to_be_visible()


def open_search(page, width):
    page.get_by_role("button", name="Show search").click()
    expect(page.locator("#global-search")).to_be_focused()


def open_user_menu(page, width):
    page.locator("#user-menu").click()
    expect(page.locator("#user-menu + .dropdown-menu")).to_be_visible()


def sign_in_wrongly(page, width):
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")


def create_token(page, width):
    page.get_by_label("Name").fill(f"Sweep {width}")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("created")


def post_nothing(page, width):
    page.locator("#feed-post").click()
    expect(page.locator("#feed-body-error")).to_be_visible()


def type_a_mention(page, width):
    composer = page.locator("#feed-body")
    composer.click()
    composer.press_sequentially("@")  # everyone who may see the record, but oneself
    expect(page.locator("#feed-mentions [role=option]").first).to_be_visible()


def open_the_bell(page, width):
    page.locator("#notifications-bell").click()
    expect(page.locator("#notifications-menu").get_by_text("All notifications")).to_be_visible()


def reject_without_a_comment(page, width):
    page.locator("[id^=reject-]").first.click()
    expect(page.locator(".approval-decision .invalid-feedback").first).to_be_visible()


def may_view_payments(user, world) -> bool:
    return can_view_payments(user)


def may_record_payments(user, world) -> bool:
    return can_record_payment(user)


def apply_by_hand(page, width):
    page.get_by_label("By hand, invoice by invoice").check()
    expect(page.locator("#allocation-preview input.money-input").first).to_be_visible()


def record_with_errors(page, width):
    page.locator("#id_amount").fill("-5")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".error-summary")).to_be_visible()


def may_decide_approvals(user, world) -> bool:
    return user.is_authenticated and user.has_role(FINANCE_MANAGER, ADMIN)


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: Callable = everyone
    step: Callable | None = None
    status: int = 200
    widths: tuple[str, ...] = ("desktop", "phone")


PAGES = [
    Page("home", "/", signed_in),
    Page("navigation menu open", "/customers/{customer}/", signed_in, open_navigation_menu, widths=("phone",)),
    Page("search open", "/customers/{customer}/", may_view_customers, open_search, widths=("phone",)),
    Page("user menu open", "/", signed_in, open_user_menu),
    Page("customer list", "/customers/", may_view_customers),
    Page("customer list, filtered", "/customers/?status=active&sort=-name", may_view_customers),
    Page("customer list, nothing found", "/customers/?q=no-such-customer", may_view_customers),
    Page("customer list, invalid filter", "/customers/?owner=not-a-number", may_view_customers),
    Page("customer list, mine missing billing details", "/customers/?mine=1&billing=incomplete", may_view_customers),
    Page("customer list, column chooser open", "/customers/", may_view_customers, open_column_chooser),
    Page("customer list, filters open", "/customers/", may_view_customers, open_filters, widths=("phone",)),
    Page("search results", "/search/?q=a", may_view_customers),
    Page("search, nothing found", "/search/?q=no-such-thing", may_view_customers),
    Page("customer record", "/customers/{customer}/", may_view_customers),
    Page("contact form open inline", "/customers/{customer}/", may_edit_contacts, open_contact_form),
    Page("contact form with errors", "/customers/{customer}/", may_edit_contacts, submit_contact_form_with_errors),
    Page("edit form", "/customers/{customer}/edit/", may_edit),
    Page("edit form with errors", "/customers/{customer}/edit/", may_edit, submit_with_a_required_field_cleared),
    Page("new customer form", "/customers/new/", may_create),
    Page("new customer form, country list open", "/customers/new/", may_create, type_in_the_country_list),
    Page("new customer form with errors", "/customers/new/", may_create, submit_empty),
    Page("403: creating customers", "/customers/new/", may_not_create, status=403),
    Page("403: someone else's customer", "/customers/{others_customer}/edit/", may_not_edit_others, status=403),
    Page("404", "/no-such-page/", status=404),
    Page("customer feed, empty post", "/customers/{customer}/", may_view_customers, post_nothing),
    Page("customer feed, mention suggestions", "/customers/{customer}/", may_view_customers, type_a_mention),
    Page("my feed", "/feed/", signed_in),
    Page("my feed, mentions", "/feed/?show=mentions", signed_in),
    Page("a person's feed", "/feed/people/{rep}/", may_view_customers),
    Page("notifications", "/notifications/", signed_in),
    Page("notifications, unread", "/notifications/?show=unread", signed_in),
    # Over a page with nothing under the menu: axe counts a button half-hidden by an open menu as crowded.
    Page("notifications menu open", "/search/?q=no-such-thing", may_view_customers, open_the_bell),
    Page("approvals to decide", "/approvals/", signed_in),
    Page("approvals, my requests", "/approvals/?tab=mine", signed_in),
    Page("approvals, decided", "/approvals/?tab=decided", signed_in),
    Page("approval rejected without a comment", "/approvals/", may_decide_approvals, reject_without_a_comment),
    Page("password change", "/account/password/", signed_in),
    Page("preferences", "/account/preferences/", signed_in),
    Page("API tokens", "/account/tokens/", signed_in),
    Page("sign in", "/login/", anonymous),
    Page("sign in, wrong password", "/login/", anonymous, sign_in_wrongly),
    Page("password reset", "/password-reset/", anonymous),
    # The selling side (issue 8): leads, deals, the board and forecast, quotes, cases, the catalog.
    Page("lead list", "/leads/", may_view_customers),
    Page("lead record", "/leads/{lead}/", may_view_customers),
    Page("new lead form", "/leads/new/", may_create_leads),
    Page("lead conversion", "/leads/{lead}/convert/", may_edit_lead),
    Page("deal list", "/deals/", may_view_customers),
    Page("pipeline board", "/deals/board/", may_view_customers),
    Page("forecast", "/deals/forecast/", may_view_customers),
    Page("deal record", "/deals/{deal}/", may_view_customers),
    Page("deal edit form", "/deals/{deal}/edit/", may_edit_deal),
    Page("new deal form", "/customers/{customer}/deals/new/", may_create_deals),
    Page("quote", "/quotes/{quote}/", may_view_customers),
    Page("service cases", "/cases/", may_view_customers),
    Page("service case", "/cases/{case}/", may_view_customers),
    Page("new service case form", "/customers/{customer}/cases/new/", may_view_customers),
    Page("products", "/catalog/products/", may_view_customers),
    Page("tax rates", "/catalog/tax-rates/", may_view_customers),
    Page("pipeline stages", "/catalog/stages/", may_view_customers),
    # Billing (issue 9): invoices, a draft and an issued one, a credit note, plans and runs.
    Page("invoice list", "/invoices/", may_view_customers),
    Page("invoice list, overdue", "/invoices/?overdue=true", may_view_customers),
    Page("draft invoice", "/invoices/{draft}/", may_view_customers),
    Page("issued invoice", "/invoices/{invoice}/", may_view_customers),
    Page("credit note", "/credit-notes/{credit_note}/", may_view_customers),
    Page("credit note form", "/invoices/{invoice}/credit/", may_credit),
    Page("new invoice", "/invoices/new/", may_credit),
    Page("won deal with its invoicing", "/deals/{won_deal}/", may_view_customers),
    Page("billing plans", "/billing/plans/", may_view_customers),
    Page("billing plan", "/billing/plans/{plan}/", may_view_customers),
    Page("new billing plan", "/billing/plans/new/", may_manage_plans),
    Page("billing runs", "/billing/runs/", may_view_customers),
    Page("billing run", "/billing/runs/{run}/", may_view_customers),
    # Receivables (issue 10): the aging report, a past day, a refused date, a bucket's invoices.
    Page("aging", "/receivables/aging/", may_view_receivables),
    Page("aging as of a past day", "/receivables/aging/?as_of=2026-03-31", may_view_receivables),
    Page("aging, unreadable date", "/receivables/aging/?as_of=someday", may_view_receivables),
    Page("aging, a bucket's invoices", "/receivables/aging/invoices/?bucket=current", may_view_receivables),
    # Credit control (issue 10): a customer on credit hold, its held deal and draft, the hold form.
    Page("customer on credit hold", "/customers/{held_customer}/", may_view_customers),
    Page("deal of a customer on credit hold", "/deals/{held_deal}/", may_view_customers),
    Page("draft invoice of a customer on credit hold", "/invoices/{held_draft}/", may_view_customers),
    Page("credit hold form open", "/customers/{customer}/", may_set_holds, open_the_hold_form),
    # --- statements (receivables): the preview as of a past day (items, credit, forms), a refused date ---
    Page("customer statement", "/customers/{customer}/statement/?as_of=2026-03-31", may_view_standing),
    Page(
        "customer statement, refused date",
        "/customers/{customer}/statement/?as_of=someday",
        may_view_standing,
        status=400,
    ),
    # Payments (issue 10): the list, a payment, "Record payment" with its preview, by hand and with errors.
    Page("payment list", "/payments/", may_view_payments),
    Page("payment list, void ones", "/payments/?status=void", may_view_payments),
    Page("payment", "/payments/{payment}/", may_view_payments),
    Page("payment with credit to allocate", "/payments/{credit_payment}/", may_view_payments),
    Page("record payment, find the customer", "/payments/new/?q=Acme", may_record_payments),
    Page("record payment", "/payments/new/?customer={customer}", may_record_payments),
    Page("record payment, by hand", "/payments/new/?customer={customer}", may_record_payments, apply_by_hand),
    Page("record payment with errors", "/payments/new/?customer={customer}", may_record_payments, record_with_errors),
    # Dunning (issue 11): the worklist (plain, filtered, refused filter, a row's actions open),
    # the runs, a preview, a run and a notice as sent; the 360's Collections panel is on the customer page.
    Page("collections worklist", "/receivables/collections/", may_view_dunning),
    Page("collections worklist, filtered", "/receivables/collections/?bucket=days_1_30", may_view_dunning),
    Page("collections worklist, refused filter", "/receivables/collections/?owner=x", may_view_dunning, status=400),
    Page("collections worklist, actions open", "/receivables/collections/", may_view_dunning, open_worklist_actions),
    Page("dunning runs", "/receivables/dunning/", may_view_dunning),
    Page("dunning preview", "/receivables/dunning/new/?as_of=2026-03-31", may_run_dunning),
    Page("dunning preview, future day", "/receivables/dunning/new/?as_of=2999-01-01", may_run_dunning, status=400),
    Page("dunning run", "/receivables/dunning/runs/{dunning_run}/", may_view_dunning),
    Page("dunning notice", "/receivables/dunning/notices/{dunning_notice}/", may_view_dunning),
    # Last: holding a token makes the user an integrator (the navigation changes).
    Page("token created", "/account/tokens/", signed_in, create_token),
]


@pytest.fixture
def world(rep, other_rep, clerk, sales_manager, finance_manager, admin_user):
    customer = CustomerFactory(owner=rep, name="Acme Industries GmbH")
    ContactFactory(customer=customer, name="Jane Doe", job_title="Buyer", is_primary=True)
    others_customer = CustomerFactory(owner=other_rep, name="Umbrella Corporation")
    CustomerFactory.create_batch(3, owner=rep)
    # A feed with every kind of item, and something for each role's bell and task list.
    everyone = [rep, other_rep, clerk, sales_manager, finance_manager, admin_user]
    for person in everyone:
        feed.follow(person, customer)
    post = feed.post(
        target=customer,
        by=rep,
        body="Terms look odd, see https://example.com/terms @clerk @salesmanager @financemanager @admin @rep2",
        files=[SimpleUploadedFile("terms.pdf", b"%PDF-1.4 terms", content_type="application/pdf")],
    )
    feed.comment(item=post, by=clerk, body="Checking with @rep now.")
    feed.like(item=post, by=clerk)
    crm_services.update_customer(customer=customer, by=finance_manager, data={"credit_limit": Decimal("20000")})
    feed.request_approval(target=customer, kind="crm.credit_limit_exception", by=rep, reason="Big renewal")
    feed.request_approval(target=others_customer, kind="crm.credit_limit_exception", by=clerk, reason="Rush order")
    # One of each selling record, made through their services (their feeds have items).
    lead = leads.create_lead(by=rep, data={"name": "Lena Vogt", "company": "Acme", "email": "lena@acme.example"})
    deal = opportunities.create_opportunity(
        by=rep,
        customer=customer,
        data={"name": "Acme rollout", "expected_close_date": date(2027, 3, 31)},
        lines=[
            {"description": "Fleet tracking", "quantity": "40", "unit_price": "180.00", "discount_percent": "10"},
            {"description": "Onboarding workshop", "quantity": "1", "unit_price": "1450.00"},
        ],
    )
    opportunities.move_stage(opportunity=deal, by=rep, stage=Stage.objects.get(name="Proposal"))
    quote = quotes.create_quote(opportunity=deal, by=rep)
    case = cases.log_case(
        by=clerk, customer=customer, data={"subject": "Trackers offline since Monday", "severity": "high"}
    )
    # Billing: a won deal invoiced and issued, credited in part; a draft; a plan and a run.
    won_deal = opportunities.create_opportunity(
        by=rep,
        customer=customer,
        data={"name": "Acme support", "expected_close_date": date(2027, 1, 31)},
        lines=[{"description": "Support 24/7", "quantity": "2", "unit_price": "4800.00"}],
    )
    won_deal = opportunities.win(opportunity=won_deal, by=rep)
    invoice = billing.issue_invoice(
        invoice=billing.invoice_opportunity(opportunity=won_deal, by=clerk, percent="50"), by=clerk
    )
    credit_note = billing.credit_invoice(
        invoice=invoice,
        by=clerk,
        reason="Goodwill",
        lines=[{"invoice_line": invoice.lines.first().pk, "quantity": "0.5"}],
    )
    draft = billing.create_invoice(
        by=clerk,
        customer=customer,
        lines=[{"description": "Onboarding workshop", "quantity": "1", "unit_price": "1450.00"}],
    )
    plan = billing_plans.create_plan(
        by=finance_manager,
        customer=customer,
        data={"name": "Acme tracking, monthly", "interval": "monthly", "start_date": date(2026, 1, 1)},
        lines=[{"description": "Fleet tracking", "quantity": "40", "unit_price": "15.00"}],
    )
    run = billing_plans.run_billing(as_of=date(2026, 3, 1), by=clerk)
    # Receivables: a payment partly applied, the rest unapplied credit (the aging shows both).
    receivables.record_payment(
        customer=customer, by=clerk, data={"received_on": date(2026, 3, 20), "amount": "700.00", "method": "cheque"}
    )
    # Credit control: a customer of the rep's on manual hold, with an open deal and a draft.
    held_customer = CustomerFactory(owner=rep, name="Initech AG")
    held_draft = billing.create_invoice(
        by=clerk, customer=held_customer, lines=[{"description": "Audit", "quantity": "1", "unit_price": "900.00"}]
    )
    held_deal = opportunities.create_opportunity(
        by=rep,
        customer=held_customer,
        data={"name": "Initech audit", "expected_close_date": date(2027, 2, 28)},
        lines=[{"description": "Audit", "quantity": "1", "unit_price": "900.00"}],
    )
    receivables_credit.set_hold(customer=held_customer, by=finance_manager, reason="Two cheques bounced")
    # Payments: one applied to the issued invoice, one kept as credit, one void; another open invoice.
    received = {"received_on": date.today(), "amount": "500.00", "method": "bank_transfer", "reference": "WIRE-1"}
    payment = receivables.record_payment(customer=customer, by=clerk, data=received)
    billing.issue_invoice(
        invoice=billing.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "Hotline", "quantity": "1", "unit_price": "250.00"}]
        ),
        by=clerk,
    )
    credit_payment = receivables.record_payment(
        customer=customer, by=clerk, data={**received, "amount": "120.00"}, allocations=[]
    )
    voided = receivables.record_payment(
        customer=customer, by=clerk, data={**received, "amount": "9.00"}, allocations=[]
    )
    receivables.void_payment(payment=voided, by=clerk, reason="Recorded twice")
    # Dunning: a customer 20 days overdue is reminded by a run (Celery runs eagerly here).
    reminded = CustomerFactory(owner=rep, name="Umbrella Ltd", email="ap@umbrella.example")
    billing.issue_invoice(
        invoice=billing.create_invoice(
            by=clerk,
            customer=reminded,
            data={"payment_days": 30},
            lines=[{"description": "Consulting", "quantity": "1", "unit_price": "2000.00"}],
        ),
        by=clerk,
        on=date.today() - timedelta(days=50),
        render=False,
    )
    dunning_run = dunning.run_dunning(as_of=date.today(), by=clerk)
    return SimpleNamespace(
        dunning_run=dunning_run,
        dunning_notice=DunningNotice.objects.filter(run=dunning_run).first(),
        customer=customer,
        others_customer=others_customer,
        rep=rep,
        lead=lead,
        deal=deal,
        quote=quote,
        case=case,
        won_deal=won_deal,
        invoice=invoice,
        credit_note=credit_note,
        draft=draft,
        plan=plan,
        run=run,
        held_customer=held_customer,
        held_deal=held_deal,
        held_draft=held_draft,
        payment=payment,
        credit_payment=credit_payment,
    )


def violations_report(found: dict[str, list[dict]]) -> str:
    lines = []
    for page_name, violations in found.items():
        lines.append(f"{page_name}:")
        for violation in violations:
            lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
            for node in violation["nodes"]:
                lines.append(
                    f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').splitlines()[-1]}"
                )
    return "\n".join(lines)


def sweep(browser, base_url, user, world, width) -> dict[str, list[dict]]:
    # Reduced motion: no smooth scrolling or fading menus half-way through a check.
    context = browser.new_context(viewport=WIDTHS[width], bypass_csp=True, locale="en-GB", reduced_motion="reduce")
    page = context.new_page()
    axe = Axe()
    found = {}
    try:
        if user.is_authenticated:
            page.goto(f"{base_url}/login/")
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/login/" not in url)
        checked = 0
        for row in PAGES:
            if width not in row.widths or not row.who(user, world):
                continue
            path = row.path.format(
                customer=world.customer.pk,
                others_customer=world.others_customer.pk,
                rep=world.rep.pk,
                lead=world.lead.pk,
                deal=world.deal.pk,
                quote=world.quote.pk,
                case=world.case.pk,
                won_deal=world.won_deal.pk,
                invoice=world.invoice.pk,
                credit_note=world.credit_note.pk,
                draft=world.draft.pk,
                plan=world.plan.pk,
                run=world.run.pk,
                held_customer=world.held_customer.pk,
                held_deal=world.held_deal.pk,
                held_draft=world.held_draft.pk,
                payment=world.payment.pk,
                credit_payment=world.credit_payment.pk,
                dunning_run=world.dunning_run.pk,
                dunning_notice=world.dunning_notice.pk,
            )
            response = page.goto(f"{base_url}{path}")
            assert response.status == row.status, f"{row.name}: {path} answered {response.status}"
            if row.step:
                row.step(page, width)
            page.wait_for_load_state("networkidle")  # htmx parts (the list's summary) are in
            # axe's target-size rule takes a link scrolled under the sticky top bar for a
            # target crowded by the bar's buttons; from the top, nothing is under the bar.
            page.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
            violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
            if violations:
                found[f"{row.name} ({path})"] = violations
            checked += 1
        assert checked, "no page was checked"
    finally:
        context.close()
    return found


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_each_role_has_no_accessibility_violations(browser, live_server, world, request, role, width):
    user = request.getfixturevalue(role)
    found = sweep(browser, live_server.url, user, world, width)
    assert not found, f"axe-core found violations for {role} at {width} width:\n{violations_report(found)}"


@pytest.mark.parametrize("width", WIDTHS)
def test_signed_out_pages_have_no_accessibility_violations(browser, live_server, world, width):
    from django.contrib.auth.models import AnonymousUser

    found = sweep(browser, live_server.url, AnonymousUser(), world, width)
    assert not found, f"axe-core found violations signed out at {width} width:\n{violations_report(found)}"
