"""Load Concord's demo book: a user per role, about 60 customers with contacts, and
what people said about them on the feed (posts, comments, @mentions, likes, follows).

Idempotent: users and customers that exist are left as they are, so it is safe
to run on every start.
"""

import unicodedata
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from collaboration import services as feed
from collaboration.models import Comment, FeedItem, Notification, Reaction
from crm import catalog
from crm.models import Customer, PaymentTerms, Product, TaxRate
from crm.services import create_contact, create_customer
from demo import data

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
        posts = self._feed(users)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {created} customers added, {Customer.objects.count()} in all; "
                f"{products} products and {posts} feed posts added."
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

    def _feed(self, users: dict[str, User]) -> int:
        """The conversations of data.FEED_THREADS, through the services (mentions notify,
        authors and the people mentioned follow), dated back over the last weeks."""
        if FeedItem.objects.filter(kind=FeedItem.Kind.POST).exists():
            return 0  # said once: a second run leaves the feed as it is
        now = timezone.now().replace(second=0, microsecond=0)
        first = now - timedelta(days=max(days for _, days, *_ in data.FEED_THREADS) + 10)
        # What the customers' creation published happened before anything was said.
        for offset, item_id in enumerate(FeedItem.objects.order_by("id").values_list("pk", flat=True)):
            FeedItem.objects.filter(pk=item_id).update(created_at=first + timedelta(minutes=offset))
        for username, names in data.FEED_FOLLOWS.items():
            for customer in Customer.objects.filter(name__in=names):
                feed.follow(users[username], customer)
        customers = {c.name: c for c in Customer.objects.filter(name__in={t[0] for t in data.FEED_THREADS})}
        for index, (name, days, author, body, comments, likers) in enumerate(data.FEED_THREADS):
            said = now.replace(hour=9) - timedelta(days=days) + timedelta(minutes=7 * index)
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
        # One request waits for the finance managers: the approvals task list is not empty.
        name, reason = data.FEED_APPROVAL
        feed.request_approval(target=customers[name], kind="crm.credit_limit_exception", by=users["rep"], reason=reason)
        # Mentions older than a week have been read; the recent ones wait under the bell.
        Notification.objects.filter(created_at__lt=now - timedelta(days=7), read_at=None).update(
            read_at=now - timedelta(days=7)
        )
        return len(data.FEED_THREADS)

    def _date(self, item: FeedItem, said) -> None:
        FeedItem.objects.filter(pk=item.pk).update(created_at=said)
        Notification.objects.filter(item=item).update(created_at=said)
