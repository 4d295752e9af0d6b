"""factory-boy factories for Concord's models. Users get roles by name: UserFactory(role=SALES_REP)."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import SALES_REP
from crm.models import Contact, Customer, Lead, Opportunity, OpportunityLine, Product, ServiceCase, Stage, TaxRate


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("secret-pass-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n:04d} GmbH")
    legal_name = factory.LazyAttribute(lambda c: c.name)
    tax_id = factory.Sequence(lambda n: f"DE{100000000 + n}")
    email = factory.Sequence(lambda n: f"billing{n}@customer.example")
    phone = "+49 30 1234567"
    address_line1 = "Friedrichstraße 10"
    postal_code = "10117"
    city = "Berlin"
    country = "DE"
    currency = "EUR"
    payment_days = 30
    credit_limit = Decimal("10000.00")
    owner = factory.SubFactory(UserFactory, role=SALES_REP)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    job_title = "Head of Purchasing"


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate
        django_get_or_create = ("name",)

    name = "VAT 19%"
    percentage = Decimal("19.00")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    unit_price = Decimal("100.00")
    currency = "EUR"
    default_tax_rate = factory.SubFactory(TaxRateFactory)


def stage(name: str) -> Stage:
    """One of the default stages by name ("Proposal", "Won")."""
    return Stage.objects.get(name=name)


class OpportunityFactory(factory.django.DjangoModelFactory):
    """A deal written directly (no feed, no follows): for tests of reading pages;
    tests of the operations use crm.opportunities."""

    class Meta:
        model = Opportunity

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")
    owner = factory.LazyAttribute(lambda o: o.customer.owner)
    stage = factory.LazyFunction(lambda: stage("Qualification"))
    expected_close_date = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=30))
    currency = factory.LazyAttribute(lambda o: o.customer.currency)
    payment_terms = factory.LazyAttribute(lambda o: o.customer.payment_terms)
    payment_days = factory.LazyAttribute(lambda o: o.customer.payment_days)


class OpportunityLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpportunityLine

    opportunity = factory.SubFactory(OpportunityFactory)
    description = "Consulting day"
    quantity = Decimal("1")
    unit_price = Decimal("100.00")
    amount = factory.LazyAttribute(lambda line: (line.quantity * line.unit_price).quantize(Decimal("0.01")))


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Faker("name")
    company = factory.Sequence(lambda n: f"Prospect {n} AG")
    email = factory.Sequence(lambda n: f"lead{n}@prospect.example")
    owner = factory.SubFactory(UserFactory, role=SALES_REP)


class ServiceCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceCase

    customer = factory.SubFactory(CustomerFactory)
    subject = "Delivery arrived damaged"
    owner = factory.LazyAttribute(lambda case: case.customer.owner)
    created_by = factory.LazyAttribute(lambda case: case.customer.owner)
