"""Who may do what to invoices: one table, checked through every channel.

Each row is an actor, each column an action:
- view: read an issued invoice;
- create: draft an invoice for a customer;
- own_deal: "Invoice this deal" on a won deal the actor owns (a deal owned by `rep`
  for actors who do not sell: finance owns no deals);
- others_deal: the same on a won deal owned by `other_rep`;
- edit: change a draft's notes; issue: issue a draft; send: email an issued invoice;
- void: void an issued invoice; credit: credit an issued invoice.

The same table is run against billing.services, the pages (Django test client) and
the REST API, so a rule enforced in one channel and forgotten in another fails here;
a refused action changes nothing (and takes no number).
"""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from billing import services
from billing.models import CreditNote, Invoice
from core.models import Sequence
from crm import opportunities
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MATRIX = """
actor            view  create  own_deal  others_deal  edit  issue  send  void  credit
rep              yes   no      yes       no           no    no     no    no    no
sales_manager    yes   no      yes       no           no    no     no    no    no
clerk            yes   yes     yes       yes          yes   yes    yes   no    yes
finance_manager  yes   yes     yes       yes          yes   yes    yes   yes   yes
admin            yes   yes     yes       yes          yes   yes    yes   yes   yes
outsider         no    no      no        no           no    no     no    no    no
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
SALES = {"rep", "sales_manager"}
LINES = [{"description": "Consulting", "quantity": "2", "unit_price": "150.00"}]


def won_deal(owner, name):
    deal = opportunities.create_opportunity(
        by=owner,
        customer=CustomerFactory(owner=owner),
        data={"name": name, "expected_close_date": date(2027, 3, 31)},
        lines=LINES,
    )
    return opportunities.win(opportunity=deal, by=owner)


class World:
    """The actor, the records acted on (made by a clerk), and how to tell an action happened."""

    def __init__(self, actors, actor):
        self.user = actors[actor]
        clerk = actors["clerk"]
        self.own_deal = won_deal(self.user if actor in SALES else actors["rep"], "Own deal")
        self.others_deal = won_deal(actors["other_rep"], "Other's deal")
        self.customer = CustomerFactory(owner=actors["rep"])
        self.new_customer = CustomerFactory(owner=actors["rep"])  # "create" drafts its first invoice
        self.draft = services.create_invoice(by=clerk, customer=self.customer, lines=LINES)
        self.issued = services.issue_invoice(
            invoice=services.create_invoice(by=clerk, customer=self.customer, lines=LINES), by=clerk
        )

    def happened(self, action) -> bool:
        draft = Invoice.objects.get(pk=self.draft.pk)
        issued = Invoice.objects.get(pk=self.issued.pk)
        return {
            "create": lambda: Invoice.objects.filter(customer=self.new_customer).exists(),
            "own_deal": lambda: Invoice.objects.filter(opportunity=self.own_deal).exists(),
            "others_deal": lambda: Invoice.objects.filter(opportunity=self.others_deal).exists(),
            "edit": lambda: draft.notes == "Edited",
            "issue": lambda: draft.status == Invoice.Status.ISSUED,
            "send": lambda: issued.sent_at is not None,
            "void": lambda: issued.status == Invoice.Status.VOID,
            "credit": lambda: CreditNote.objects.filter(invoice=issued).exists(),
        }[action]()


# --- the channels: each performs an action and says whether it was allowed ---


def via_service(world, action) -> bool:
    user = world.user
    if action == "view":
        return Invoice.objects.visible_to(user).filter(pk=world.issued.pk).exists()
    operations = {
        "create": lambda: services.create_invoice(
            by=user, customer=world.new_customer, data={"notes": "Matrix draft"}, lines=LINES
        ),
        "own_deal": lambda: services.invoice_opportunity(opportunity=world.own_deal, by=user),
        "others_deal": lambda: services.invoice_opportunity(opportunity=world.others_deal, by=user),
        "edit": lambda: services.update_draft(invoice=world.draft, by=user, data={"notes": "Edited"}),
        "issue": lambda: services.issue_invoice(invoice=world.draft, by=user),
        "send": lambda: services.send_invoice(invoice=world.issued, by=user, to="ap@customer.example"),
        "void": lambda: services.void_invoice(invoice=world.issued, by=user, reason="Wrong customer"),
        "credit": lambda: services.credit_invoice(invoice=world.issued, by=user, reason="Returned"),
    }
    try:
        operations[action]()
    except PermissionDenied:
        return False
    return True


def via_page(world, action, client) -> bool:
    client.force_login(world.user)
    draft, issued = world.draft, world.issued

    def url(name, record):
        return reverse(f"billing:{name}", args=[record.pk])

    requests = {
        "view": lambda: (client.get(url("invoice_detail", issued)), 200),
        "create": lambda: (client.post(reverse("billing:invoice_create"), {"customer": world.new_customer.pk}), 302),
        "own_deal": lambda: (client.post(url("deal_invoice", world.own_deal), {}), 302),
        "others_deal": lambda: (client.post(url("deal_invoice", world.others_deal), {}), 302),
        "edit": lambda: (
            client.post(
                url("invoice_edit", draft),
                {"payment_terms": draft.payment_terms, "payment_days": draft.payment_days, "notes": "Edited"},
            ),
            302,
        ),
        "issue": lambda: (client.post(url("invoice_issue", draft)), 302),
        "send": lambda: (client.post(url("invoice_send", issued), {"to": "ap@customer.example"}), 302),
        "void": lambda: (client.post(url("invoice_void", issued), {"reason": "Wrong customer"}), 302),
        "credit": lambda: (client.post(url("credit_note_create", issued), {"scope": "all", "reason": "Returned"}), 302),
    }
    response, ok = requests[action]()
    assert response.status_code in (ok, 403), (response.status_code, getattr(response, "context", None))
    return response.status_code == ok


def via_api(world, action, token_client) -> bool:
    client = token_client(world.user)
    draft = f"/api/v1/invoices/{world.draft.pk}/"
    issued = f"/api/v1/invoices/{world.issued.pk}/"
    requests = {
        "view": lambda: (client.get(issued), 200),
        "create": lambda: (
            client.post(
                "/api/v1/invoices/", {"customer": world.new_customer.pk, "notes": "Matrix draft", "lines": LINES}
            ),
            201,
        ),
        "own_deal": lambda: (client.post(f"/api/v1/opportunities/{world.own_deal.pk}/invoice/", {}), 201),
        "others_deal": lambda: (client.post(f"/api/v1/opportunities/{world.others_deal.pk}/invoice/", {}), 201),
        "edit": lambda: (client.patch(draft, {"notes": "Edited"}), 200),
        "issue": lambda: (client.post(f"{draft}issue/"), 200),
        "send": lambda: (client.post(f"{issued}send/", {"to": "ap@customer.example"}), 200),
        "void": lambda: (client.post(f"{issued}void/", {"reason": "Wrong customer"}), 200),
        "credit": lambda: (client.post(f"{issued}credit/", {"reason": "Returned"}), 201),
    }
    response, ok = requests[action]()
    assert response.status_code in (ok, 403), response.json()
    if response.status_code == 403:
        assert response.json()["error"]["code"] == "permission_denied"
    return response.status_code == ok


CASES = [
    pytest.param(actor, action, channel, id=f"{channel}-{actor}-{action}")
    for (actor, action) in EXPECTED
    for channel in ("service", "page", "api")
]


@pytest.mark.parametrize(("actor", "action", "channel"), CASES)
def test_permission_matrix(actors, client, token_client, django_capture_on_commit_callbacks, actor, action, channel):
    world = World(actors, actor)
    expected = EXPECTED[actor, action]

    with django_capture_on_commit_callbacks(execute=False):  # no PDF or email needed here
        if channel == "service":
            allowed = via_service(world, action)
        elif channel == "page":
            allowed = via_page(world, action, client)
        else:
            allowed = via_api(world, action, token_client)

    assert allowed is expected
    if action != "view":
        assert world.happened(action) is expected  # refused means nothing changed
    if not expected:
        # A refused action takes no number: only the world's own invoice has one.
        assert Sequence.objects.get(key="INV").last == 1
        assert not Sequence.objects.filter(key="CN").exists()


def test_the_table_covers_every_actor_and_action():
    actors = {actor for actor, _ in EXPECTED}
    actions = {action for _, action in EXPECTED}
    assert actors == {"rep", "sales_manager", "clerk", "finance_manager", "admin", "outsider"}
    assert actions == {"view", "create", "own_deal", "others_deal", "edit", "issue", "send", "void", "credit"}


def test_the_permission_functions_agree_with_the_table(actors):
    """billing.permissions, which pages ask to show or hide a button, says the same."""
    from billing import permissions

    customer = CustomerFactory(owner=actors["rep"])
    draft = services.create_invoice(by=actors["clerk"], customer=customer, lines=LINES)
    for actor in ("rep", "sales_manager", "clerk", "finance_manager", "admin", "outsider"):
        user = actors[actor]
        own = won_deal(user if actor in SALES else actors["rep"], f"{actor}'s deal")
        says = {
            "view": permissions.can_view_invoices(user),
            "create": permissions.can_create_invoice(user),
            "own_deal": permissions.can_invoice_deal(user, own),
            "edit": permissions.can_edit_draft(user, draft),
            "issue": permissions.can_issue(user),
            "send": permissions.can_send(user),
            "void": permissions.can_void(user),
            "credit": permissions.can_credit(user),
        }
        assert says == {action: EXPECTED[actor, action] for action in says}, actor
