"""Who may do what to payments: one table, checked through every channel.

Each row is an actor, each column an action:
- view: read a payment of a customer `rep` owns;
- view_others: read a payment of a customer `other_rep` owns (refused: 404 for a rep);
- record: record a payment; allocate: apply a payment's unapplied credit to an invoice;
- unallocate: take an allocation back; void: void a payment;
- write_off: ask for a small balance to be written off;
- approve: approve a write-off asked for by the clerk.

The same table is run against receivables.services, the pages (Django test client) and
the REST API (write-offs have no API of their own), so a rule enforced in one channel
and forgotten in another fails here; a refused action changes nothing.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from collaboration import services as collaboration
from collaboration.models import ApprovalRequest
from collaboration.services import ApprovalError
from receivables import permissions, services
from receivables.models import Allocation, Payment, WriteOff
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MATRIX = """
actor            view  view_others  record  allocate  unallocate  void  write_off  approve
rep              yes   no           no      no        no          no    no         no
sales_manager    yes   yes          no      no        no          no    no         no
clerk            yes   yes          yes     yes       yes         yes   yes        no
finance_manager  yes   yes          yes     yes       yes         yes   yes        yes
admin            yes   yes          yes     yes       yes         yes   yes        yes
outsider         no    no           no      no        no          no    no         no
"""


def _parse(table: str) -> dict[tuple[str, str], bool]:
    header, *rows = [line.split() for line in table.strip().splitlines()]
    actions = header[1:]
    return {
        (actor, action): outcome == "yes"
        for actor, *outcomes in rows
        for action, outcome in zip(actions, outcomes, strict=True)
    }


EXPECTED = _parse(MATRIX)
D = Decimal
RECORDED = D("12.34")


class World:
    """The actor, the records acted on (made by the clerk), and how to tell an action happened."""

    def __init__(self, actors, actor, issue):
        self.user = actors[actor]
        clerk = actors["clerk"]
        self.customer = CustomerFactory(owner=actors["rep"])
        others_customer = CustomerFactory(owner=actors["other_rep"])
        self.small, tiny, self.open = (issue(amount, who=self.customer) for amount in ("100.00", "100.00", "200.00"))
        today = timezone.localdate()

        def pay(customer, amount, allocations):
            data = {"received_on": today, "amount": amount, "method": "bank_transfer"}
            return services.record_payment(customer=customer, by=clerk, data=data, allocations=allocations)

        self.paid = pay(self.customer, "95.00", [(self.small, "95.00")])  # 5.00 left on `small`
        self.allocation = self.paid.allocations.get()
        pay(self.customer, "98.00", [(tiny, "98.00")])
        self.tiny_write_off = services.request_write_off(invoice=tiny, by=clerk, reason="Bank fees")
        self.approval = ApprovalRequest.objects.get(kind=services.WRITE_OFF_APPROVAL)
        self.credit = pay(self.customer, "50.00", [])
        self.voidable = pay(self.customer, "30.00", [])
        self.others_payment = pay(others_customer, "10.00", [])

    def happened(self, action) -> bool:
        return {
            "record": lambda: Payment.objects.filter(customer=self.customer, amount=RECORDED).exists(),
            "allocate": lambda: self.credit.allocations.exists(),
            "unallocate": lambda: Allocation.objects.get(pk=self.allocation.pk).reversed_on is not None,
            "void": lambda: Payment.objects.get(pk=self.voidable.pk).is_void,
            "write_off": lambda: WriteOff.objects.filter(invoice=self.small).exists(),
            "approve": lambda: WriteOff.objects.get(pk=self.tiny_write_off.pk).status == WriteOff.Status.APPROVED,
        }[action]()


# --- the channels: each performs an action and says whether it was allowed ---


def via_service(world, action) -> bool:
    user = world.user
    if action in ("view", "view_others"):
        payment = world.paid if action == "view" else world.others_payment
        visible = Payment.objects.visible_to(user).filter(pk=payment.pk).exists()
        assert visible is permissions.can_view_payment(user, payment)
        return visible
    received = {"received_on": timezone.localdate(), "amount": RECORDED, "method": "cash"}
    operations = {
        "record": lambda: services.record_payment(customer=world.customer, by=user, data=received, allocations=[]),
        "allocate": lambda: services.allocate(payment=world.credit, by=user, allocations=[(world.open, "20.00")]),
        "unallocate": lambda: services.unallocate(allocation=world.allocation, by=user),
        "void": lambda: services.void_payment(payment=world.voidable, by=user, reason="Bounced"),
        "write_off": lambda: services.request_write_off(invoice=world.small, by=user, reason="Bank fees"),
        "approve": lambda: collaboration.decide_approval(approval=world.approval, by=user, approve=True),
    }
    try:
        operations[action]()
    except (PermissionDenied, ApprovalError):
        return False
    return True


def via_page(world, action, client) -> bool:
    client.force_login(world.user)

    def url(name, record):
        return reverse(f"receivables:{name}", args=[record.pk])

    new_payment = {
        "customer": world.customer.pk,
        "received_on": timezone.localdate().isoformat(),
        "amount": str(RECORDED),
        "method": "cash",
        "mode": "manual",  # nothing typed per invoice: all of it unapplied
    }
    requests = {
        "view": lambda: (client.get(url("payment_detail", world.paid)), 200),
        "view_others": lambda: (client.get(url("payment_detail", world.others_payment)), 200),
        "record": lambda: (client.post(reverse("receivables:payment_create"), new_payment), 302),
        "allocate": lambda: (
            client.post(url("payment_allocate", world.credit), {f"alloc_{world.open.pk}": "20.00"}),
            302,
        ),
        "unallocate": lambda: (
            client.post(url("payment_unallocate", world.paid), {"allocation": world.allocation.pk}),
            302,
        ),
        "void": lambda: (client.post(url("payment_void", world.voidable), {"reason": "Bounced"}), 302),
        "write_off": lambda: (client.post(url("invoice_write_off", world.small), {"reason": "Bank fees"}), 302),
        "approve": lambda: (
            client.post(reverse("collaboration:approval_decide", args=[world.approval.pk]), {"decision": "approve"}),
            302,
        ),
    }
    response, ok = requests[action]()
    assert response.status_code in (ok, 403, 404), response.status_code
    return response.status_code == ok


def via_api(world, action, token_client) -> bool:
    client = token_client(world.user)
    payments = "/api/v1/payments/"
    new_payment = {
        "customer": world.customer.pk,
        "received_on": timezone.localdate().isoformat(),
        "amount": str(RECORDED),
        "method": "cash",
        "allocations": [],
    }
    requests = {
        "view": lambda: (client.get(f"{payments}{world.paid.pk}/"), 200),
        "view_others": lambda: (client.get(f"{payments}{world.others_payment.pk}/"), 200),
        "record": lambda: (client.post(payments, new_payment, format="json"), 201),
        "allocate": lambda: (
            client.post(
                f"{payments}{world.credit.pk}/allocate/",
                {"allocations": [{"invoice": world.open.pk, "amount": "20.00"}]},
                format="json",
            ),
            200,
        ),
        "unallocate": lambda: (client.post(f"/api/v1/allocations/{world.allocation.pk}/unallocate/"), 200),
        "void": lambda: (
            client.post(f"{payments}{world.voidable.pk}/void/", {"reason": "Bounced"}, format="json"),
            200,
        ),
        "approve": lambda: (client.post(f"/api/v1/approvals/{world.approval.pk}/approve/", {}, format="json"), 200),
    }
    response, ok = requests[action]()
    assert response.status_code in (ok, 403, 404), response.json()
    if response.status_code == 403:
        assert response.json()["error"]["code"] == "permission_denied"
    return response.status_code == ok


CASES = [
    pytest.param(actor, action, channel, id=f"{channel}-{actor}-{action}")
    for (actor, action) in EXPECTED
    for channel in ("service", "page", "api")
    if not (channel == "api" and action == "write_off")  # asked for from the invoice page; no API
]


@pytest.mark.parametrize(("actor", "action", "channel"), CASES)
def test_permission_matrix(
    actors, client, token_client, issue, django_capture_on_commit_callbacks, actor, action, channel
):
    world = World(actors, actor, issue)
    expected = EXPECTED[actor, action]

    with django_capture_on_commit_callbacks(execute=False):
        if channel == "service":
            allowed = via_service(world, action)
        elif channel == "page":
            allowed = via_page(world, action, client)
        else:
            allowed = via_api(world, action, token_client)

    assert allowed is expected
    if action not in ("view", "view_others"):
        assert world.happened(action) is expected  # refused means nothing changed


@pytest.mark.parametrize("channel", ["page", "api"])
def test_a_rep_finds_no_other_reps_customers_payment(actors, client, token_client, issue, channel):
    """Not "forbidden" (which says it exists) but not found."""
    world = World(actors, "rep", issue)
    if channel == "page":
        client.force_login(actors["rep"])
        response = client.get(reverse("receivables:payment_detail", args=[world.others_payment.pk]))
    else:
        response = token_client(actors["rep"]).get(f"/api/v1/payments/{world.others_payment.pk}/")
    assert response.status_code == 404


def test_the_table_covers_every_actor_and_action():
    actors = {actor for actor, _ in EXPECTED}
    actions = {action for _, action in EXPECTED}
    assert actors == {"rep", "sales_manager", "clerk", "finance_manager", "admin", "outsider"}
    assert actions == {"view", "view_others", "record", "allocate", "unallocate", "void", "write_off", "approve"}


def test_the_permission_functions_agree_with_the_table(actors):
    """receivables.permissions, which pages ask to show or hide a button, says the same."""
    for actor in ("rep", "sales_manager", "clerk", "finance_manager", "admin", "outsider"):
        user = actors[actor]
        says = {
            "record": permissions.can_record_payment(user),
            "allocate": permissions.can_allocate(user),
            "unallocate": permissions.can_allocate(user),
            "void": permissions.can_void_payment(user),
            "write_off": permissions.can_request_write_off(user),
            "approve": permissions.can_approve_write_off(user),
        }
        assert says == {action: EXPECTED[actor, action] for action in says}, actor
