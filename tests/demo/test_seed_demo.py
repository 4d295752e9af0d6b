from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from collaboration.models import FeedItem, Notification
from collaboration.selectors import my_feed
from crm.models import Contact, Customer

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_every_role_a_user_and_a_realistic_book():
    call_command("seed_demo", stdout=StringIO())
    usernames = set(User.objects.values_list("username", flat=True))
    assert usernames == {"rep", "rep2", "salesmanager", "clerk", "financemanager", "admin"}
    for user in User.objects.all():
        assert user.check_password("demo")
        assert user.role_names, user.username
    assert Customer.objects.count() >= 50
    assert Contact.objects.count() >= Customer.objects.count()
    owners = set(Customer.objects.values_list("owner__username", flat=True))
    assert {"rep", "rep2"} <= owners
    assert Customer.objects.filter(credit_limit__isnull=False).exists()
    assert Customer.objects.missing_billing_details().exists()  # something for finance to do


def test_seed_demo_can_run_twice():
    call_command("seed_demo", stdout=StringIO())
    counts = (User.objects.count(), Customer.objects.count(), Contact.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (User.objects.count(), Customer.objects.count(), Contact.objects.count()) == counts


def test_every_demo_user_can_sign_in(rf):
    call_command("seed_demo", stdout=StringIO())
    for username in ["rep", "rep2", "salesmanager", "clerk", "financemanager", "admin"]:
        request = rf.post("/login/")  # axes needs the request to count failures
        assert authenticate(request, username=username, password="demo"), username


def test_the_demo_gives_every_user_a_feed_and_clerk_a_mention():
    call_command("seed_demo", stdout=StringIO())
    for user in User.objects.all():
        assert my_feed(user).exists(), user.username
    clerk = User.objects.get(username="clerk")
    assert Notification.objects.filter(user=clerk, kind=Notification.Kind.MENTION).exists()
    assert FeedItem.objects.filter(kind=FeedItem.Kind.POST, comment_count__gt=0, like_count__gt=0).exists()


def test_the_demo_feed_is_dated_in_the_past_in_the_order_it_was_said():
    call_command("seed_demo", stdout=StringIO())
    dates = list(FeedItem.objects.order_by("id").values_list("created_at", flat=True))
    assert dates == sorted(dates)
    assert dates[-1] < timezone.now()
    assert dates[-1] - dates[0] > timedelta(days=14)
    for item in FeedItem.objects.filter(comment_count__gt=0):
        comments = list(item.comments.order_by("id").values_list("created_at", flat=True))
        assert comments == sorted(comments)
        assert comments[0] > item.created_at


def test_running_the_demo_twice_says_everything_once():
    call_command("seed_demo", stdout=StringIO())
    counts = (FeedItem.objects.count(), Notification.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (FeedItem.objects.count(), Notification.objects.count()) == counts


def test_the_demo_leaves_a_credit_exception_waiting_for_the_finance_managers(db):
    from collaboration.models import ApprovalRequest

    call_command("seed_demo", verbosity=0)
    approval = ApprovalRequest.objects.get(status="pending", kind="crm.credit_limit_exception")
    assert Notification.objects.filter(approval=approval, user__username="financemanager").exists()


def test_the_demo_books_look_real(db):
    """18 months of payments by habit: paid, part-paid and overdue invoices, a bounced
    cheque, unapplied credit nowhere negative, customers on credit hold, a write-off waiting."""
    from billing.models import Invoice
    from collaboration.models import ApprovalRequest
    from crm.models import Customer
    from receivables import aging, credit
    from receivables.models import Payment

    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    today = timezone.localdate()
    payments = Payment.objects.all()
    assert payments.count() > 30 and payments.filter(status="void").exists()
    assert (today - payments.order_by("received_on").first().received_on).days > 300
    assert Invoice.objects.filter(status="paid").count() > 20
    assert Invoice.objects.overdue(today).exists()
    over_90 = sum(row["over_90"] for row in aging.totals(today))
    assert over_90 > 0
    assert any(credit.credit_status(customer).on_hold for customer in Customer.objects.all())
    assert ApprovalRequest.objects.filter(status="pending", kind="receivables.write_off").exists()


def test_the_demo_has_a_catalog_with_tax_rates_once(db):
    from crm.models import Product, TaxRate

    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    assert Product.objects.count() == 7
    assert TaxRate.objects.get(name="VAT 19%").percentage == Decimal("19.00")
    assert all(product.default_tax_rate_id for product in Product.objects.all())


def test_the_demo_has_eighteen_months_of_deals_in_every_stage(db):
    from crm.models import Opportunity, Stage

    call_command("seed_demo", verbosity=0)
    for stage in Stage.objects.all():
        assert Opportunity.objects.filter(stage=stage).exists(), stage.name
    first = Opportunity.objects.order_by("created_at").first().created_at
    assert timezone.now() - first > timedelta(days=365)
    won = Opportunity.objects.won()
    assert not won.filter(closed_on=None).exists()
    assert not won.filter(lines=None).exists()
    assert not Opportunity.objects.lost().filter(lost_reason="").exists()


def test_the_demo_bills_its_won_deals_with_some_credited_and_some_void(db):
    from billing.models import CreditNote, Invoice

    call_command("seed_demo", verbosity=0)
    issued = Invoice.objects.exclude(number=None)
    assert issued.filter(status="issued").exists() and issued.filter(status="void").exists()
    assert CreditNote.objects.exists()
    numbers = list(issued.order_by("issue_date", "number").values_list("number", flat=True))
    assert numbers == sorted(numbers)  # numbered in the order they were issued
    deals = issued.exclude(billing_plan__isnull=False)  # the rest are the billing run's (plans)
    assert not deals.exclude(opportunity__stage__is_won=True).exists()


def test_the_demo_keeps_billing_plans_and_its_billing_run_invoiced_them_once(db):
    from billing.models import BillingPlan, BillingRun, Invoice

    call_command("seed_demo", verbosity=0)
    plans = BillingPlan.objects.all()
    assert {plan.interval for plan in plans} == {"monthly", "quarterly", "yearly"}
    assert plans.filter(auto_issue=True).exists() and plans.filter(auto_issue=False).exists()
    ended = plans.get(end_date__isnull=False)
    assert ended.end_date < timezone.localdate() and ended.next_invoice_date > ended.end_date
    (run,) = BillingRun.objects.all()
    assert run.status == "done" and not run.failures
    recurring = Invoice.objects.exclude(billing_plan=None)
    assert recurring.count() == run.invoices_created == plans.count()
    assert set(recurring.values_list("status", flat=True)) == {"issued", "draft"}
    newest = Invoice.objects.exclude(number=None).order_by("-number").first()
    assert newest.billing_plan_id and newest.issue_date == timezone.localdate()  # numbered last, today

    call_command("seed_demo", verbosity=0)
    assert (BillingPlan.objects.count(), BillingRun.objects.count()) == (plans.count(), 1)
    assert Invoice.objects.exclude(billing_plan=None).count() == recurring.count()


def test_the_demo_tells_the_dunning_story_at_first_login(db):
    """Past runs with sent notices, a customer held by a late-stage deal, an open dispute,
    a kept and a broken promise, and an owner's call still to make."""
    from receivables import dunning
    from receivables.models import CollectionTask, Dispute, DunningNotice, DunningRun, PaymentPromise

    call_command("seed_demo", verbosity=0)
    today = timezone.localdate()
    runs = list(DunningRun.objects.order_by("as_of"))
    assert len(runs) >= 3 and all(run.status == "done" and run.as_of < today for run in runs)
    assert DunningNotice.objects.filter(status="sent").exists()
    assert CollectionTask.objects.filter(status="open", owner__isnull=False).exists()
    assert Dispute.objects.filter(status="open").exists()
    assert set(PaymentPromise.objects.values_list("status", flat=True)) == {"kept", "broken"}
    assert FeedItem.objects.filter(verb="promise.broken").exists()
    assert "deal" in dunning.plan_dunning(today).skipped_by_reason()

    call_command("seed_demo", verbosity=0)
    assert DunningRun.objects.count() == len(runs)


def test_the_demo_logs_a_call_nobody_asked_for_and_the_worklist_shows_it(db):
    """The clerk called an overdue customer without a dunning level asking: a done call
    without a notice (dunning.log_call), the customer's last contact on the worklist. Once."""
    from billing.models import Invoice
    from receivables.collections import overdue_by_customer, worklist_rows
    from receivables.models import CollectionTask

    call_command("seed_demo", verbosity=0)
    (call,) = CollectionTask.objects.filter(notice=None)
    assert (call.status, call.outcome, call.done_by.username) == ("done", "called", "clerk")
    today = timezone.localdate()
    assert call.done_at < timezone.now() and call.due < today
    (row,) = worklist_rows(list(overdue_by_customer(Invoice.objects.filter(customer=call.customer), today)), today)
    assert (row.last_call_at, row.last_call_outcome) == (call.done_at, "called")

    call_command("seed_demo", verbosity=0)
    assert CollectionTask.objects.filter(notice=None).count() == 1
