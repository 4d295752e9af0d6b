"""Load Concord's demo book: a user per role, about 60 customers with contacts, and
what people said about them on the feed (posts, comments, @mentions, likes, follows),
eighteen months of deals and their invoices, and billing plans with a billing run.

Idempotent: users and customers that exist are left as they are, so it is safe
to run on every start.
"""

import random
import unicodedata
from datetime import date, timedelta
from decimal import Decimal

from celery import current_app as celery_app
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from billing import plans as billing_plans
from billing import services as billing
from billing.models import BillingPlan, Invoice
from collaboration import services as feed
from collaboration.models import Comment, FeedItem, Notification, Reaction
from core.money import round_money
from crm import catalog, leads, opportunities, quotes
from crm.models import Customer, Lead, Opportunity, PaymentTerms, Product, Quote, Stage, TaxRate
from crm.services import create_contact, create_customer, update_customer
from demo import data
from receivables import credit, dunning, statements
from receivables import services as receivables
from receivables.models import CollectionTask, CreditHold, DunningNotice, DunningRun

DEMO_PASSWORD = "demo"


def _slug(text: str) -> str:
    """ASCII letters only, for demo email addresses."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.lower()) if ch.isascii() and ch.isalnum())


class Command(BaseCommand):
    help = "Create demo users (password 'demo') and a realistic book of customers. Safe to run twice."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {username: self._user(username, first, last, role) for username, first, last, role in data.USERS}
        created = sum(self._customer(i, users) for i in range(len(data.COMPANIES)))
        products = self._catalog(users)
        posts, deals = self._history(users)
        self._standing(users)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {created} customers added, {Customer.objects.count()} in all; "
                f"{products} products, {posts} feed posts and {deals} deals added."
            )
        )
        self.stdout.write("Demo logins (password “demo”):")
        for username, _first, _last, role in data.USERS:
            self.stdout.write(f"  {username:<15} {role}")

    def _catalog(self, users: dict[str, User]) -> int:
        """Tax rates and products (data.TAX_RATES, data.PRODUCTS) through crm.catalog,
        as the finance manager and the sales manager would add them; once."""
        rates = {}
        for name, percentage in data.TAX_RATES:
            rates[name] = TaxRate.objects.filter(name=name).first() or catalog.create_tax_rate(
                by=users["financemanager"], data={"name": name, "percentage": Decimal(percentage)}
            )
        added = 0
        for code, name, description, price, rate in data.PRODUCTS:
            if Product.objects.filter(code=code).exists():
                continue
            catalog.create_product(
                by=users["salesmanager"],
                data={
                    "code": code,
                    "name": name,
                    "description": description,
                    "unit_price": Decimal(price),
                    "currency": "EUR",
                    "default_tax_rate": rates[rate],
                },
            )
            added += 1
        return added

    def _user(self, username, first, last, role) -> User:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@concord.example"},
        )
        if created:
            # The demo password is deliberately weak, so validators are bypassed here only.
            user.set_password(DEMO_PASSWORD)
            if username == "admin":
                user.is_staff = user.is_superuser = True
            user.save()
            user.groups.add(Group.objects.get(name=role))
        return user

    def _customer(self, i: int, users: dict[str, User]) -> bool:
        name, suffix = data.COMPANIES[i]
        if Customer.objects.filter(name=name).exists():
            return False
        city, postal, street, country, currency = data.LOCATIONS[i % len(data.LOCATIONS)]
        # Reps own most accounts; the manager keeps a few key ones.
        owner = users[("rep", "rep2", "rep", "rep2", "salesmanager")[i % 5]]
        status = (
            Customer.Status.PROSPECT
            if i % 11 == 7
            else Customer.Status.INACTIVE
            if i % 17 == 9
            else Customer.Status.ACTIVE
        )
        slug = _slug(name)[:20]
        fields = {
            "name": name,
            "legal_name": f"{name} {suffix}",
            "tax_id": f"{data.TAX_PREFIX[country]}{(i * 7919 + 104729) % 10**9:09d}" if i % 9 != 4 else "",
            "email": f"accounts@{slug}.example",
            "phone": f"+{10 + i % 80} {200 + i} {1000 + i * 37}",
            "address_line1": f"{street} {1 + i % 120}" if i % 13 != 6 else "",
            "postal_code": postal,
            "city": city,
            "country": country,
            "currency": currency,
            "payment_terms": PaymentTerms.END_OF_MONTH if i % 4 == 3 else PaymentTerms.NET,
            "payment_days": (14, 30, 30, 45, 60, 30)[i % 6],
            "status": status,
        }
        if i % 3 != 2:
            fields["credit_limit"] = Decimal((5, 10, 25, 50, 100, 250)[i % 6] * 1000)
        # Created by the finance manager, who may set owner and credit limit in one go.
        customer = create_customer(by=users["financemanager"], data={**fields, "owner": owner})
        for k in range(1 + i % 3):
            first = data.FIRST_NAMES[(i + k * 7) % len(data.FIRST_NAMES)]
            last = data.LAST_NAMES[(i * 3 + k) % len(data.LAST_NAMES)]
            create_contact(
                customer=customer,
                by=owner,
                data={
                    "name": f"{first} {last}",
                    "email": f"{_slug(first)}.{_slug(last)}@{slug}.example",
                    "job_title": data.JOB_TITLES[(i + k) % len(data.JOB_TITLES)],
                    "phone": f"+{10 + i % 80} {300 + k} {5000 + i * 13}",
                },
            )
        return True

    # --- what happened: conversations and deals, on one timeline --------------------------

    def _history(self, users: dict[str, User]) -> tuple[int, int]:
        """The feed's conversations (data.FEED_THREADS) and eighteen months of deals,
        done through the services in the order they happened and dated back, so item
        ids and dates run the same way (feeds list by id). Each part once."""
        actions = []
        threads = 0 if FeedItem.objects.filter(kind=FeedItem.Kind.POST).exists() else len(data.FEED_THREADS)
        if threads:
            actions += self._conversations(users)
        deals = self._pipeline_plan(users) if not Opportunity.objects.exists() else []
        actions += [action for deal in deals for action in deal]
        if not Lead.objects.exists():
            actions += self._leads_plan(users)
        plans = [] if BillingPlan.objects.exists() else self._billing_plans(users)
        actions += plans
        if not DunningRun.objects.exists():
            actions += self._dunning_plan(users)
        if not actions:
            return 0, 0
        # What the customers' creation published happened before anything else.
        first = min(when for when, _ in actions) - timedelta(days=10)
        for offset, item_id in enumerate(FeedItem.objects.order_by("id").values_list("pk", flat=True)):
            FeedItem.objects.filter(pk=item_id).update(created_at=first + timedelta(minutes=offset))
        Customer.objects.filter(created_at__gt=first).update(created_at=first)
        if threads:
            for username, names in data.FEED_FOLLOWS.items():
                for customer in Customer.objects.filter(name__in=names):
                    feed.follow(users[username], customer)
        for _when, action in sorted(actions, key=lambda pair: pair[0]):
            action()
        if plans:
            # Last, as today's daily run: what it issues is dated today and numbered after
            # every invoice of the timeline. Nobody started it, so each plan's keeper acts.
            billing_plans.run_billing(as_of=timezone.localdate())
        if threads:
            self._after_conversations(users)
        return threads, len(deals)

    def _conversations(self, users: dict[str, User]) -> list:
        """(when, action) for each thread of data.FEED_THREADS: posted, commented and liked
        through collaboration.services (mentions notify; authors and the people mentioned
        follow), over the last weeks."""
        now = timezone.now().replace(second=0, microsecond=0)
        customers = {c.name: c for c in Customer.objects.filter(name__in={t[0] for t in data.FEED_THREADS})}
        actions = []
        for index, (name, days, author, body, comments, likers) in enumerate(data.FEED_THREADS):
            said = now.replace(hour=9) - timedelta(days=days) + timedelta(minutes=7 * index)

            def thread(said=said, name=name, author=author, body=body, comments=comments, likers=likers):
                item = feed.post(target=customers[name], by=users[author], body=body)
                self._date(item, said)
                for commenter, hours, text in comments:
                    comment = feed.comment(item=item, by=users[commenter], body=text)
                    Comment.objects.filter(pk=comment.pk).update(created_at=said + timedelta(hours=hours))
                    Notification.objects.filter(item=item, created_at__gt=said + timedelta(hours=hours)).update(
                        created_at=said + timedelta(hours=hours)
                    )
                for liker in likers:
                    feed.like(item=item, by=users[liker])
                Reaction.objects.filter(item=item).update(created_at=said + timedelta(hours=1))

            actions.append((said, thread))
        return actions

    def _after_conversations(self, users: dict[str, User]) -> None:
        now = timezone.now()
        # One request waits for the finance managers: the approvals task list is not empty.
        name, reason = data.FEED_APPROVAL
        customer = Customer.objects.get(name=name)
        feed.request_approval(target=customer, kind="crm.credit_limit_exception", by=users["rep"], reason=reason)
        # Mentions older than a week have been read; the recent ones wait under the bell.
        Notification.objects.filter(created_at__lt=now - timedelta(days=7), read_at=None).update(
            read_at=now - timedelta(days=7)
        )

    def _date(self, item: FeedItem, said) -> None:
        FeedItem.objects.filter(pk=item.pk).update(created_at=said)
        Notification.objects.filter(item=item).update(created_at=said)

    def _pipeline_plan(self, users: dict[str, User]) -> list[list]:
        """Per deal, its (when, action) steps through crm.opportunities: each customer has
        two to five deals with lines from the catalog; deals whose close date has passed
        were won or lost on it, the rest are open across the stages (the first deal of
        each customer is recent, so the board is busy)."""
        rng = random.Random(8)
        today = timezone.localdate()
        products = {product.code: product for product in Product.objects.all()}
        open_stages = list(Stage.objects.filter(is_won=False, is_lost=False).order_by("order"))
        plan = []
        for i, customer in enumerate(Customer.objects.select_related("owner").order_by("pk")):
            for k in range(2 + i % 4):
                kind = i * 5 + k
                started = today - timedelta(days=rng.randint(3, 60) if k == 0 else rng.randint(3, 540))
                closes = started + timedelta(days=rng.randint(21, 100))
                deal = {}  # filled by the first step, read by the later ones
                data_ = {
                    "name": data.DEAL_NAMES[kind % len(data.DEAL_NAMES)],
                    "expected_close_date": closes,
                    "next_step": data.NEXT_STEPS[kind % len(data.NEXT_STEPS)],
                }
                lines = self._lines(rng, kind, customer.currency, products)

                def create(customer=customer, data_=data_, lines=lines, deal=deal, started=started):
                    deal["record"] = opportunities.create_opportunity(
                        by=customer.owner, customer=customer, data=data_, lines=lines
                    )
                    Opportunity.objects.filter(pk=deal["record"].pk).update(created_at=self._at(started))

                steps = [(started, create)]
                if closes < today - timedelta(days=7) and customer.status != Customer.Status.PROSPECT:
                    proposed = started + (closes - started) / 2
                    steps.append((proposed, self._move(deal, open_stages[2])))
                    if proposed.year == today.year and kind % 3 == 0:
                        steps.append((proposed, self._quote(deal, proposed)))
                    if rng.random() < 0.62:
                        steps.append((closes, self._step(deal, opportunities.win, on=closes)))
                        billed = closes + timedelta(days=2)
                        if billed < today:
                            steps.append((billed, self._invoice(deal, billed, kind, users)))
                            steps += self._payments(deal, billed, customer, i, rng, users)
                            if kind % 7 == 3 and billed + timedelta(days=12) < today:
                                steps.append(
                                    (billed + timedelta(days=12), self._credit(deal, billed + timedelta(days=12)))
                                )
                    else:
                        reason = data.LOST_REASONS[kind % len(data.LOST_REASONS)]
                        steps.append((closes, self._step(deal, opportunities.lose, reason=reason, on=closes)))
                else:
                    if closes < today:  # a slipped deal: its rep moved the close date out
                        new_date = today + timedelta(days=rng.randint(7, 75))
                        steps.append(
                            (
                                today - timedelta(days=rng.randint(1, 2)),
                                self._step(
                                    deal, opportunities.update_opportunity, data={"expected_close_date": new_date}
                                ),
                            )
                        )
                    stage = open_stages[kind % len(open_stages)]
                    if stage != open_stages[0]:
                        moved = min(today - timedelta(days=1), started + timedelta(days=rng.randint(1, 20)))
                        steps.append((max(moved, started), self._move(deal, stage)))
                        if stage.probability >= 50:
                            steps.append((max(moved, started), self._quote(deal, max(moved, started))))
                plan.append(
                    [
                        (self._at(day, offset), self._dated(day, offset, step))
                        for offset, (day, step) in enumerate(steps)
                    ]
                )
        return plan

    def _billing_plans(self, users: dict[str, User]) -> list:
        """(when, action) for each of data.BILLING_PLANS: made by the finance manager
        through billing.plans a week before its first period, which starts on the 1st
        of a month; an ended plan's last period is the month it names."""
        this_month = timezone.localdate().replace(day=1)
        products = {product.code: product for product in Product.objects.all()}
        customers = {c.name: c for c in Customer.objects.filter(name__in={plan[0] for plan in data.BILLING_PLANS})}
        steps = []
        for offset, (name, plan_name, interval, starts, ends, auto_issue, lines) in enumerate(data.BILLING_PLANS):
            customer = customers[name]
            start = billing_plans.add_months(this_month, -starts)
            end = billing_plans.add_months(this_month, -ends + 1) - timedelta(days=1) if ends is not None else None
            rate = Decimal(data.DEMO_RATES.get(customer.currency, "1"))
            plan_lines = [
                {
                    "product": products[code],
                    "description": description,
                    "quantity": quantity,
                    "unit_price": (Decimal(price) * rate).quantize(Decimal("0.01")),
                    "discount_percent": discount,
                }
                for code, description, quantity, price, discount in lines
            ]
            plan_data = {
                "name": plan_name,
                "interval": interval,
                "start_date": start,
                "end_date": end,
                "auto_issue": auto_issue,
            }

            def create(customer=customer, plan_data=plan_data, plan_lines=plan_lines):
                billing_plans.create_plan(
                    by=users["financemanager"], customer=customer, data=plan_data, lines=plan_lines
                )

            made = start - timedelta(days=7)
            steps.append((self._at(made, 50 + offset), self._dated(made, 50 + offset, create)))
        return steps

    @staticmethod
    def _step(deal: dict, operation, **arguments):
        def step():
            deal["record"] = operation(opportunity=deal["record"], by=deal["record"].owner, **arguments)

        return step

    @staticmethod
    def _invoice(deal: dict, day: date, kind: int, users: dict[str, User]):
        """The won deal invoiced by the clerk and issued on `day` (its PDF is made when
        first opened); now and then voided and issued again, as a clerk corrects a slip.
        A customer without billing details keeps a draft."""

        def step():
            clerk = users["clerk"]
            invoice = billing.invoice_opportunity(opportunity=deal["record"], by=clerk)
            try:
                invoice = billing.issue_invoice(invoice=invoice, by=clerk, on=day, render=False)
            except ValidationError:
                return
            if kind % 13 == 5:
                billing.void_invoice(invoice=invoice, by=users["financemanager"], reason=data.VOID_REASON)
                again = billing.invoice_opportunity(opportunity=deal["record"], by=clerk)
                billing.issue_invoice(invoice=again, by=clerk, on=day, render=False)

        return step

    # --- how each customer pays (issue 10): data.PAYERS by customer, on the same timeline ---

    def _payments(self, deal: dict, billed: date, customer: Customer, i: int, rng: random.Random, users) -> list:
        """The payments of the deal's invoice as its customer's habit has them (data.PAYERS):
        on time, late, in instalments, or not at all lately; only those received by today."""
        today = timezone.localdate()
        due = customer.due_date(billed)
        habit = data.PAYERS[i % len(data.PAYERS)]
        if habit == "prompt":
            plan = [(due + timedelta(days=rng.randint(-6, 2)), None)]
        elif habit == "late":
            plan = [(due + timedelta(days=rng.randint(20, 80)), None)]
        elif habit == "mixed":
            plan = [(due + timedelta(days=rng.choice((-2, 0, 1, 4, 12, 25, 45, 70))), None)]
        elif habit == "instalments":
            plan = [(due + timedelta(days=30 * n), Decimal("0.34") if n < 2 else None) for n in range(3)]
        else:  # "stretched": paid very late, and nothing paid of the last half year
            plan = [] if billed > today - timedelta(days=240) else [(due + timedelta(days=rng.randint(60, 95)), None)]
        return [(day, self._payment(deal, day, share, i, users)) for day, share in plan if day < today]

    @staticmethod
    def _payment(deal: dict, day: date, share: Decimal | None, i: int, users):
        """The clerk records the customer's payment of the deal's invoice (`share` of its
        total, or what is left); now and then a cheque bounces and is paid again by transfer."""

        def step():
            invoice = deal["record"].invoices.open().order_by("-pk").first()
            if invoice is None:
                return
            amount = (
                invoice.balance_due if share is None else min(invoice.balance_due, round_money(invoice.total * share))
            )
            clerk = users["clerk"]
            method = ("bank_transfer", "bank_transfer", "direct_debit", "card", "cheque")[(invoice.pk + i) % 5]
            # What a bank statement line says: the remittance's own number and the invoice it pays.
            reference = f"Remittance {7100 + invoice.pk * 10 + i} for {invoice.number}"
            data_ = {"received_on": day, "amount": amount, "method": method, "reference": reference}
            payment = receivables.record_payment(
                customer=invoice.customer, by=clerk, data=data_, allocations=[(invoice, amount)]
            )
            if method == "cheque" and invoice.pk % 3 == 0 and day + timedelta(days=8) < timezone.localdate():
                receivables.void_payment(payment=payment, by=clerk, reason=data.BOUNCED_REASON)
                data_ = {**data_, "received_on": day + timedelta(days=8), "method": "bank_transfer"}
                receivables.record_payment(
                    customer=invoice.customer, by=clerk, data=data_, allocations=[(invoice, amount)]
                )

        return step

    def _standing(self, users: dict[str, User]) -> None:
        """After the timeline: the stretched payer's limit cut below what it owes (so it is on
        credit hold), a manual hold, a small short payment waiting for a write-off, and a
        few customers on monthly statements. Once."""
        if CreditHold.objects.exists():
            return
        customers = list(Customer.objects.order_by("pk"))
        manager, clerk = users["financemanager"], users["clerk"]
        for i, customer in enumerate(customers):
            habit = data.PAYERS[i % len(data.PAYERS)]
            owed = Invoice.objects.open().filter(customer=customer).aggregate(s=Sum("balance_due"))["s"] or 0
            if habit == "stretched" and owed > 2000:
                limit = max(Decimal("1000"), (Decimal(owed) * Decimal("0.6") / 1000).quantize(Decimal("1")) * 1000)
                update_customer(customer=customer, by=manager, data={"credit_limit": limit})
            if habit == "prompt" and i % 4 == 0:
                statements.set_monthly_statement(customer=customer, by=clerk, enabled=True)
        late = [c for i, c in enumerate(customers) if data.PAYERS[i % len(data.PAYERS)] == "late"]
        if late:
            credit.set_hold(customer=late[0], by=manager, reason=data.HOLD_REASON, until=None)
        invoice = Invoice.objects.open().filter(balance_due__gt=60, billing_plan=None).order_by("-issue_date").first()
        if invoice is not None:
            short = invoice.balance_due - Decimal("12.40")
            receivables.record_payment(
                customer=invoice.customer,
                by=clerk,
                data={"received_on": timezone.localdate(), "amount": short, "reference": f"{invoice.number} less fees"},
                allocations=[(invoice, short)],
            )
            receivables.request_write_off(invoice=invoice, by=clerk, reason=data.WRITE_OFF_REASON)

    # --- dunning (issue 11): past runs, a dispute, a kept and a broken promise, on the timeline ---

    def _dunning_plan(self, users: dict[str, User]) -> list:
        """(when, action) steps: the clerk's dunning runs of the last weeks (their notices
        sent, an owner's call asked for), a promise to pay that is kept and one that is
        broken (evaluated yesterday), a dispute a rep opened on an overdue invoice, a call
        the clerk logged without being asked, and a renewal in a late stage that holds an
        overdue customer's reminders (holds_for reads it live). Late in each day, after the
        day's deals and payments."""
        today = timezone.localdate()
        clerk = users["clerk"]
        steps = [
            (today - timedelta(days=23), self._dunning_run(today - timedelta(days=23), clerk)),
            (today - timedelta(days=19), self._promise(today - timedelta(days=19), clerk, kept=True)),
            (today - timedelta(days=16), self._dunning_run(today - timedelta(days=16), clerk)),
            (today - timedelta(days=12), self._promise(today - timedelta(days=12), clerk, kept=False)),
            (today - timedelta(days=9), self._dunning_run(today - timedelta(days=9), clerk)),
            (today - timedelta(days=5), self._dispute(today - timedelta(days=5))),
            (today - timedelta(days=4), self._call(today - timedelta(days=4), clerk)),
            (today - timedelta(days=3), self._holding_deal(today - timedelta(days=3))),
            (today - timedelta(days=2), self._dunning_run(today - timedelta(days=2), clerk)),
            (today - timedelta(days=1), lambda: dunning.evaluate_promises(as_of=today - timedelta(days=1))),
        ]
        return [(self._at(day, 600), self._dated(day, 600, action)) for day, action in steps]

    @staticmethod
    def _dunning_run(day: date, clerk: User):
        """A run as of `day`, done here and now: the command is one transaction, so the
        Celery batches it queues on commit would come too late for the next run (they
        find it done, and each notice sent, and do nothing)."""

        def step():
            run = dunning.run_dunning(as_of=day, by=clerk)
            # Planned, its batches made and its notices sent here, in order: the task that
            # run_dunning queues on commit then finds the run done.
            previous = celery_app.conf.task_always_eager
            celery_app.conf.task_always_eager = True
            try:
                dunning.plan_run(run_id=run.pk)
            finally:
                celery_app.conf.task_always_eager = previous
            # Sends are queued on commit, and the command is one transaction: send them now.
            for notice_id in run.notices.filter(status=DunningNotice.Status.PENDING).values_list("pk", flat=True):
                dunning.send_notice(notice_id=notice_id)
            run.refresh_from_db()
            if run.status != DunningRun.Status.DONE:
                raise CommandError(f"The demo's dunning run as of {day} did not finish: {run.totals}")

        return step

    @staticmethod
    def _overdue(day: date, habit: str, *, unasked: bool = False):
        """The oldest overdue invoice of a customer with this paying habit (`unasked`: of a
        customer whom dunning has asked no one to call, so a call logged is not its task)."""
        customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        ids = [pk for i, pk in enumerate(customers) if data.PAYERS[i % len(data.PAYERS)] == habit]
        invoices = Invoice.objects.open().exclude(disputes__status="open")
        if unasked:
            invoices = invoices.exclude(customer__collection_tasks__status=CollectionTask.Status.OPEN)
        return (
            invoices.filter(
                customer_id__in=ids, due_date__lt=day - timedelta(days=10), issue_date__lte=day, billing_plan=None
            )
            .select_related("customer")
            .order_by("due_date", "pk")
            .first()
        )

    def _promise(self, day: date, clerk: User, *, kept: bool):
        """A late payer promises half of an overdue invoice within five days and pays it two
        days later (kept); a stretched payer promises and pays nothing (broken)."""

        def step():
            invoice = self._overdue(day, "late" if kept else "stretched")
            if invoice is None:
                return
            amount = round_money(invoice.balance_due / 2)
            dunning.take_promise(
                customer=invoice.customer,
                by=clerk,
                amount=amount,
                promised_for=day + timedelta(days=5),
                invoice=invoice,
                on=day,
            )
            if kept:
                receivables.record_payment(
                    customer=invoice.customer,
                    by=clerk,
                    data={
                        "received_on": day + timedelta(days=2),
                        "amount": amount,
                        "reference": data.PROMISE_REFERENCE,
                    },
                    allocations=[(invoice, amount)],
                )

        return step

    def _call(self, day: date, clerk: User):
        """The clerk calls a stretched (or late) payer about an overdue invoice without
        being asked by a dunning level: a call logged without a task (dunning.log_call),
        which the worklist shows as the customer's last contact, dated `day`."""

        def step():
            invoice = self._overdue(day, "stretched", unasked=True) or self._overdue(day, "late", unasked=True)
            if invoice is None:
                return
            call = dunning.log_call(
                customer=invoice.customer, by=clerk, outcome=CollectionTask.Outcome.CALLED, note=data.CALL_NOTE
            )
            CollectionTask.objects.filter(pk=call.pk).update(due=day, done_at=self._at(day, 600))

        return step

    def _holding_deal(self, day: date):
        """The owner of the customer dunning would remind next (the most owed) takes a
        renewal to a late stage: dunning holds the customer (the preview and the worklist
        say why)."""

        def step():
            probability, _amount = dunning.hold_thresholds()
            stage = (
                Stage.objects.filter(is_won=False, is_lost=False, probability__gte=probability)
                .order_by("order")
                .first()
            )
            due = [plan for plan in dunning.plan_dunning(timezone.localdate()).to_send if plan.owner_id]
            if stage is None or not due:
                return
            chosen = max(due, key=lambda plan: (sum(line.balance for line in plan.lines), -plan.customer_id))
            customer = Customer.objects.select_related("owner").get(pk=chosen.customer_id)
            opportunities.create_opportunity(
                by=customer.owner,
                customer=customer,
                data={
                    "name": data.HOLDING_DEAL_NAME,
                    "stage": stage,
                    "expected_close_date": day + timedelta(days=21),
                    "next_step": data.HOLDING_DEAL_NEXT_STEP,
                },
            )

        return step

    def _dispute(self, day: date):
        """The account owner opens a dispute on a mixed payer's overdue invoice."""

        def step():
            invoice = self._overdue(day, "mixed") or self._overdue(day, "late")
            if invoice is None or invoice.customer.owner is None:
                return
            dunning.open_dispute(
                invoice=invoice,
                by=invoice.customer.owner,
                amount=round_money(min(invoice.balance_due, invoice.total / 4)),
                reason=data.DISPUTE_REASON,
            )

        return step

    @staticmethod
    def _credit(deal: dict, day: date):
        def step():
            # Only while something is still owed: a paid invoice is not credited (nor more than its balance).
            invoice = deal["record"].invoices.open().first()
            if invoice is None:
                return
            line = invoice.lines.first()
            try:
                billing.credit_invoice(
                    invoice=invoice,
                    by=invoice.issued_by,
                    reason=data.CREDIT_REASON,
                    lines=[{"invoice_line": line.pk, "quantity": 1}],
                    on=day,
                )
            except ValidationError:
                return

        return step

    @staticmethod
    def _quote(deal: dict, day: date):
        """A quote of the deal, sent to the customer's primary contact on `day`."""

        def step():
            opportunity = deal["record"]
            quote = quotes.create_quote(opportunity=opportunity, by=opportunity.owner)
            contact = opportunity.customer.contacts.filter(is_primary=True).first()
            if contact is not None and contact.email:
                quote = quotes.send_quote(quote=quote, by=opportunity.owner, contact=contact)
            Quote.objects.filter(pk=quote.pk).update(
                issue_date=day,
                valid_until=day + timedelta(days=30),
                sent_at=Command._at(day) if quote.sent_at else None,
            )

        return step

    def _move(self, deal: dict, stage: Stage):
        return self._step(deal, opportunities.move_stage, stage=stage)

    def _lines(self, rng: random.Random, kind: int, currency: str, products: dict) -> list[dict]:
        rate = Decimal(data.DEMO_RATES.get(currency, "1"))
        lines = []
        for code, low, high, discounts in data.DEAL_LINES[kind % len(data.DEAL_LINES)]:
            product = products[code]
            lines.append(
                {
                    "product": product,
                    "quantity": rng.randint(low, high),
                    "unit_price": (product.unit_price * rate).quantize(Decimal("0.01")),
                    "discount_percent": rng.choice(discounts),
                }
            )
        return lines

    @staticmethod
    def _at(day: date, offset: int = 0):
        """10:00 on `day` (a few minutes later per step, so one day's steps keep their order)."""
        midnight = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))
        return midnight + timedelta(hours=10, minutes=offset)

    def _dated(self, day: date, offset: int, action):
        """`action`, with what it publishes (feed items, notifications) dated `day`."""

        def dated():
            last = FeedItem.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            action()
            when = self._at(day, offset)
            FeedItem.objects.filter(pk__gt=last).update(created_at=when)
            Notification.objects.filter(item__pk__gt=last).update(created_at=when)

        return dated

    def _leads_plan(self, users: dict[str, User]) -> list:
        """(when, action) steps for data.LEADS through crm.leads: created, worked,
        qualified or disqualified, and some converted into a customer, contact and deal."""
        today = timezone.localdate()
        rng = random.Random(9)
        products = {product.code: product for product in Product.objects.all()}
        steps = []
        for index, (person, company, source, days, outcome) in enumerate(data.LEADS):
            owner = users[("rep", "rep2")[index % 2]]
            created = today - timedelta(days=days)
            slug = _slug(company)[:20]
            lead_data = {
                "name": person,
                "company": company,
                "email": f"{_slug(person.split()[0])}@{slug}.example",
                "phone": f"+49 40 {5550000 + index * 17}",
                "source": source,
            }
            lead = {}

            def create(owner=owner, lead_data=lead_data, lead=lead, created=created):
                lead["record"] = leads.create_lead(by=owner, data=lead_data)
                Lead.objects.filter(pk=lead["record"].pk).update(created_at=self._at(created))

            def work(status, reason="", lead=lead, owner=owner):
                data_ = {"status": status, **({"disqualified_reason": reason} if reason else {})}
                lead["record"] = leads.update_lead(lead=lead["record"], by=owner, data=data_)

            def convert(lead=lead, owner=owner, company=company, created=created, days=days):
                closes = created + timedelta(days=60)
                converted = leads.convert_lead(
                    lead=lead["record"],
                    by=owner,
                    customer_data=leads.customer_data_from(lead["record"]),
                    create_opportunity=True,
                    opportunity_data={"name": f"{company}: first fleet", "expected_close_date": closes},
                )
                deal = opportunities.set_lines(
                    opportunity=converted.opportunity, by=owner, lines=self._lines(rng, days, "EUR", products)
                )
                if closes < today - timedelta(days=7):  # an old conversion: the first deal is decided
                    if days % 3:
                        opportunities.win(opportunity=deal, by=owner, on=closes)
                    else:
                        opportunities.lose(opportunity=deal, by=owner, reason=data.LOST_REASONS[0], on=closes)
                when = self._at(min(today - timedelta(days=1), created + timedelta(days=3)))
                Lead.objects.filter(pk=converted.pk).update(converted_at=when)
                Opportunity.objects.filter(pk=converted.opportunity_id).update(created_at=when)
                Customer.objects.filter(pk=converted.customer_id).update(created_at=when)

            later = min(today - timedelta(days=1), created + timedelta(days=3))
            plan = [(created, create)]
            kind, _, reason = outcome.partition(":")
            if kind in ("working", "qualified", "disqualified", "converted") and later > created:
                plan.append((later, lambda work=work: work("working")))
            if kind == "qualified":
                plan.append((later, lambda work=work: work("qualified")))
            if kind == "disqualified":
                plan.append((later, lambda work=work, reason=reason: work("disqualified", reason)))
            if kind == "converted":
                plan.append((later, convert))
            steps += [
                (self._at(day, 30 + offset), self._dated(day, 30 + offset, step))
                for offset, (day, step) in enumerate(plan)
            ]
        return steps
