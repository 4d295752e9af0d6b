"""Who may do what to a customer: one table, checked through every channel.

Each row is an actor and the customer they act on ("own": a customer they own;
"rep's": a customer owned by `rep`). Each column an action. The same table is
run against crm.services, the pages (Django test client) and the REST API, so a
rule enforced in one channel and forgotten in another fails here. Billing and
receivables copy this file for their records.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.urls import reverse

from crm import services
from crm.forms import CustomerForm
from crm.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MATRIX = """
actor            record  view  create  general  billing  owner  credit  delete  contacts
rep              own     yes   yes     yes      yes      no     no      no      yes
other_rep        rep's   yes   yes     no       no       no     no      no      no
sales_manager    own     yes   yes     yes      yes      yes    no      no      yes
sales_manager    rep's   yes   yes     yes      yes      yes    no      no      yes
clerk            rep's   yes   no      no       yes      no     no      no      yes
finance_manager  rep's   yes   yes     yes      yes      yes    yes     no      yes
admin            rep's   yes   yes     yes      yes      yes    yes     yes     yes
outsider         rep's   no    no      no       no       no     no      no      no
"""


def _parse(table: str) -> dict[tuple[str, str, str], bool]:
    header, *rows = [line.split() for line in table.strip().splitlines()]
    actions = header[2:]
    return {
        (actor, record, action): outcome == "yes"
        for actor, record, *outcomes in rows
        for action, outcome in zip(actions, outcomes, strict=True)
    }


EXPECTED = _parse(MATRIX)
SALES = {"rep", "other_rep", "sales_manager"}


class World:
    """The actors, the customer acted on, and what each action changes."""

    def __init__(self, actors, actor, record):
        self.actors = actors
        self.user = actors[actor]
        self.rep, self.other_rep = actors["rep"], actors["other_rep"]
        self.customer = CustomerFactory(
            owner=self.user if record == "own" else self.rep, name="Acme GmbH", credit_limit=Decimal("1000.00")
        )
        # A new customer is owned by its creator when they sell, by `rep` otherwise.
        self.new_owner = self.user if actor in SALES else self.rep

    # What each change is, and how to tell it happened.
    CHANGES = {
        "general": ("name", "Renamed GmbH"),
        "billing": ("payment_days", 45),
        "credit": ("credit_limit", Decimal("777.00")),
    }

    def change(self, action):
        if action == "owner":
            return "owner", self.other_rep
        return self.CHANGES[action]

    def happened(self, action) -> bool:
        if action == "create":
            return Customer.objects.filter(name="New Co").exists()
        if action == "delete":
            return not Customer.objects.filter(pk=self.customer.pk).exists()
        if action == "contacts":
            return self.customer.contacts.filter(name="Jane Doe").exists()
        self.customer.refresh_from_db()
        field, value = self.change(action)
        return getattr(self.customer, field) == value


# --- the three channels: each performs an action and says whether it was allowed ---


def via_service(world, action) -> bool:
    user, customer = world.user, world.customer
    try:
        if action == "view":
            return Customer.objects.visible_to(user).filter(pk=customer.pk).exists()
        if action == "create":
            services.create_customer(by=user, data={"name": "New Co", "owner": world.new_owner})
        elif action == "delete":
            services.delete_customer(customer=customer, by=user)
        elif action == "contacts":
            services.create_contact(customer=customer, by=user, data={"name": "Jane Doe", "phone": "+49 1"})
        else:
            field, value = world.change(action)
            services.update_customer(customer=customer, by=user, data={field: value})
    except PermissionDenied:
        return False
    return True


def _form_data(customer, **changes):
    data = model_to_dict(customer, fields=CustomerForm._meta.fields)
    data.update(changes)
    return {name: "" if value is None else value for name, value in data.items()}


def via_page(world, action, client) -> bool:
    client.force_login(world.user)
    customer = world.customer
    if action == "view":
        response = client.get(reverse("crm:customer_detail", args=[customer.pk]))
        ok = 200
    elif action == "create":
        data = _form_data(Customer(currency="EUR"), name="New Co", owner=world.new_owner.pk)
        response = client.post(reverse("crm:customer_create"), data)
        ok = 302
    elif action == "contacts":
        response = client.post(
            reverse("crm:contact_create", args=[customer.pk]), {"name": "Jane Doe", "phone": "+49 1"}
        )
        ok = 302
    else:
        field, value = world.change(action)
        value = value.pk if field == "owner" else value
        response = client.post(reverse("crm:customer_edit", args=[customer.pk]), _form_data(customer, **{field: value}))
        ok = 302
    assert response.status_code in (ok, 403), (response.status_code, getattr(response, "context", None))
    return response.status_code == ok


def via_api(world, action, token_client) -> bool:
    client = token_client(world.user)
    customer = world.customer
    url = f"/api/v1/customers/{customer.pk}/"
    if action == "view":
        response, ok = client.get(url), 200
    elif action == "create":
        response, ok = client.post("/api/v1/customers/", {"name": "New Co", "owner": world.new_owner.pk}), 201
    elif action == "delete":
        response, ok = client.delete(url), 204
    elif action == "contacts":
        response, ok = (
            client.post("/api/v1/contacts/", {"customer": customer.pk, "name": "Jane Doe", "phone": "+49 1"}),
            201,
        )
    else:
        field, value = world.change(action)
        value = value.pk if field == "owner" else str(value) if isinstance(value, Decimal) else value
        response, ok = client.patch(url, {field: value}), 200
    assert response.status_code in (ok, 403), response.json()
    if response.status_code == 403:
        assert response.json()["error"]["code"] == "permission_denied"
    return response.status_code == ok


CASES = [
    pytest.param(actor, record, action, channel, id=f"{channel}-{actor}-{record}-{action}")
    for (actor, record, action) in EXPECTED
    for channel in ("service", "page", "api")
    # Customers are deleted only by admins, in the admin or the API: no page deletes them.
    if not (channel == "page" and action == "delete")
]


@pytest.mark.parametrize(("actor", "record", "action", "channel"), CASES)
def test_permission_matrix(actors, client, token_client, actor, record, action, channel):
    world = World(actors, actor, record)
    expected = EXPECTED[actor, record, action]

    if channel == "service":
        allowed = via_service(world, action)
    elif channel == "page":
        allowed = via_page(world, action, client)
    else:
        allowed = via_api(world, action, token_client)

    assert allowed is expected
    if action != "view":
        assert world.happened(action) is expected  # refused means nothing changed


def test_the_table_covers_every_actor_and_action():
    actors = {actor for actor, _, _ in EXPECTED}
    actions = {action for _, _, action in EXPECTED}
    assert actors == {"rep", "other_rep", "sales_manager", "clerk", "finance_manager", "admin", "outsider"}
    assert actions == {"view", "create", "general", "billing", "owner", "credit", "delete", "contacts"}
