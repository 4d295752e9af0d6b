"""Who may do what to leads and service cases: one table, checked through every channel.

Each row is an actor and the lead they act on ("own": a lead they own; "rep's": one
owned by `rep`). Each column an action. The same table runs against the services
(crm.leads, crm.cases), the pages (Django test client) and the REST API, and each
checks what happened to the data, not only the status code.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from crm import cases, leads
from crm.models import Customer, Lead, ServiceCase
from tests.factories import CustomerFactory, LeadFactory, ServiceCaseFactory

pytestmark = pytest.mark.django_db

MATRIX = """
actor            record  view  create  edit  reassign  convert  log_case  edit_case
rep              own     yes   yes     yes   no        yes      yes       yes
other_rep        rep's   yes   yes     no    no        no       yes       yes
sales_manager    rep's   yes   yes     yes   yes       yes      yes       yes
clerk            rep's   yes   no      no    no        no       yes       yes
finance_manager  rep's   yes   no      no    no        no       yes       yes
admin            rep's   yes   yes     yes   yes       yes      yes       yes
outsider         rep's   no    no      no    no        no       no        no
"""


def _parse(table: str):
    header, *rows = [line.split() for line in table.strip().splitlines()]
    return [
        (actor, record, action, outcome == "yes")
        for actor, record, *outcomes in rows
        for action, outcome in zip(header[2:], outcomes, strict=True)
    ]


CASES = _parse(MATRIX)
SALES = {"rep", "other_rep", "sales_manager"}
IDS = [f"{actor}-{action}" for actor, _, action, _ in CASES]


class World:
    def __init__(self, actors, actor, record):
        self.actor = actor
        self.user = actors[actor]
        self.rep, self.other_rep = actors["rep"], actors["other_rep"]
        self.lead = LeadFactory(
            owner=self.user if record == "own" else self.rep,
            name="Jane Buyer",
            company="Initech",
            email="jane@initech.example",
        )
        self.customer = CustomerFactory(owner=self.rep, name="Acme GmbH")
        self.case = ServiceCaseFactory(customer=self.customer, subject="Broken")

    def happened(self, action) -> bool:
        self.lead.refresh_from_db()
        if action == "create":
            return Lead.objects.filter(name="New Lead").exists()
        if action == "edit":
            return self.lead.status == Lead.Status.WORKING
        if action == "reassign":
            return self.lead.owner_id == self.other_rep.pk
        if action == "convert":
            return self.lead.is_converted and Customer.objects.filter(name="Initech Converted").exists()
        if action == "log_case":
            return ServiceCase.objects.filter(subject="New case").exists()
        if action == "edit_case":
            return ServiceCase.objects.get(pk=self.case.pk).status == ServiceCase.Status.WAITING
        raise AssertionError(action)


@pytest.fixture
def world(actors):
    return lambda actor, record: World(actors, actor, record)


# --- services ---


def read(queryset, record):
    if not queryset.filter(pk=record.pk).exists():
        raise PermissionDenied("not visible")


@pytest.mark.parametrize(("actor", "record", "action", "allowed"), CASES, ids=IDS)
def test_services(world, actor, record, action, allowed):
    w = world(actor, record)
    user = w.user
    operations = {
        "view": lambda: read(Lead.objects.visible_to(user), w.lead),
        "create": lambda: leads.create_lead(
            by=user, data={"name": "New Lead", **({} if actor in SALES else {"owner": w.rep})}
        ),
        "edit": lambda: leads.update_lead(lead=w.lead, by=user, data={"status": "working"}),
        "reassign": lambda: leads.update_lead(lead=w.lead, by=user, data={"owner": w.other_rep}),
        "convert": lambda: leads.convert_lead(lead=w.lead, by=user, customer_data={"name": "Initech Converted"}),
        "log_case": lambda: cases.log_case(by=user, customer=w.customer, data={"subject": "New case"}),
        "edit_case": lambda: cases.update_case(case=w.case, by=user, data={"status": "waiting"}),
    }
    if allowed:
        operations[action]()
        if action != "view":
            assert w.happened(action)
    else:
        with pytest.raises(PermissionDenied):
            operations[action]()
        if action != "view":
            assert not w.happened(action)


# --- pages ---


def lead_form_data(lead, **changes):
    data = {
        "name": lead.name,
        "company": lead.company,
        "email": lead.email,
        "phone": lead.phone,
        "tax_id": lead.tax_id,
        "source": lead.source,
        "status": lead.status,
        "disqualified_reason": "",
        "owner": lead.owner_id,
        "notes": "",
        "version": lead.version,
    }
    return {**data, **changes}


@pytest.mark.parametrize(("actor", "record", "action", "allowed"), CASES, ids=IDS)
def test_pages(client, world, actor, record, action, allowed):
    w = world(actor, record)
    client.force_login(w.user)
    lead = w.lead
    if action == "view":
        responses = [client.get(reverse(name, args=[lead.pk])) for name in ("crm:lead_detail",)]
        responses += [client.get(reverse("crm:lead_list")), client.get(reverse("crm:case_detail", args=[w.case.pk]))]
        assert all(r.status_code == (200 if allowed else 403) for r in responses)
        return
    if action == "create":
        response = client.post(
            reverse("crm:lead_create"), {"name": "New Lead", "source": "web", "status": "new", "owner": w.rep.pk}
        )
    elif action == "edit":
        response = client.post(reverse("crm:lead_status", args=[lead.pk]), {"status": "working"})
    elif action == "reassign":
        response = client.post(reverse("crm:lead_edit", args=[lead.pk]), lead_form_data(lead, owner=w.other_rep.pk))
    elif action == "convert":
        response = client.post(
            reverse("crm:lead_convert", args=[lead.pk]), {"target": "new", "name": "Initech Converted"}
        )
    elif action == "log_case":
        response = client.post(
            reverse("crm:case_create", args=[w.customer.pk]),
            {"subject": "New case", "severity": "normal", "status": "open"},
        )
    else:
        case = w.case
        response = client.post(
            reverse("crm:case_edit", args=[case.pk]),
            {"subject": case.subject, "severity": case.severity, "status": "waiting", "owner": case.owner_id},
        )
    assert w.happened(action) == allowed, response.status_code
    if allowed:
        assert response.status_code == 302
    elif action != "reassign" or actor not in ("rep",):
        # A rep editing their own lead sees the owner field read-only: the value is ignored.
        assert response.status_code == 403


# --- API ---


@pytest.mark.parametrize(("actor", "record", "action", "allowed"), CASES, ids=IDS)
def test_api(token_client, world, actor, record, action, allowed):
    w = world(actor, record)
    api = token_client(w.user)
    lead_url = f"/api/v1/leads/{w.lead.pk}/"
    if action == "view":
        response = api.get(lead_url)
        assert response.status_code == (200 if allowed else 403)
        return
    requests = {
        "create": lambda: api.post(
            "/api/v1/leads/", {"name": "New Lead", **({} if actor in SALES else {"owner": w.rep.pk})}, format="json"
        ),
        "edit": lambda: api.patch(lead_url, {"status": "working"}, format="json"),
        "reassign": lambda: api.patch(lead_url, {"owner": w.other_rep.pk}, format="json"),
        "convert": lambda: api.post(
            f"{lead_url}convert/", {"customer_data": {"name": "Initech Converted"}}, format="json"
        ),
        "log_case": lambda: api.post(
            "/api/v1/service-cases/", {"customer": w.customer.pk, "subject": "New case"}, format="json"
        ),
        "edit_case": lambda: api.patch(f"/api/v1/service-cases/{w.case.pk}/", {"status": "waiting"}, format="json"),
    }
    response = requests[action]()
    assert w.happened(action) == allowed, response.json()
    assert response.status_code == ({"create": 201, "log_case": 201}.get(action, 200) if allowed else 403), (
        response.json()
    )
