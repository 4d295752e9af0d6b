"""Load Concord's demo book: a user per role and about 60 customers with contacts.

Idempotent: users and customers that exist are left as they are, so it is safe
to run on every start.
"""

import unicodedata
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from crm.models import Customer, PaymentTerms
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
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready: {created} customers added, {Customer.objects.count()} in all.")
        )
        self.stdout.write("Demo logins (password “demo”):")
        for username, _first, _last, role in data.USERS:
            self.stdout.write(f"  {username:<15} {role}")

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
