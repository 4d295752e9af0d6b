"""factory-boy factories for Concord's models. Users get roles by name: UserFactory(role=SALES_REP)."""

from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import SALES_REP
from crm.models import Contact, Customer


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
