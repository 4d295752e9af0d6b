"""Who may do what with deals, as one matrix over roles × actions, on the pages and
in the API: reps change their own deals only, sales managers change all and
reassign owners, finance reads everything and changes nothing, someone without a
role sees nothing."""

import pytest
from django.urls import reverse

from tests.factories import OpportunityFactory, stage

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
ROLES = ["rep", "other_rep", "sales_manager", "clerk", "finance_manager", "admin", "outsider"]
READERS = {"rep", "other_rep", "sales_manager", "clerk", "finance_manager", "admin"}
CREATORS = {"rep", "other_rep", "sales_manager", "admin"}
CHANGERS_OF_REPS_DEAL = {"rep", "sales_manager", "admin"}
REASSIGNERS = {"sales_manager", "admin"}


@pytest.fixture
def deal(customer):
    """A deal owned by `rep`."""
    return OpportunityFactory(customer=customer, name="Rita's deal")


def allowed(status: int) -> bool:
    assert status != 500
    return status < 400


PAGE_READS = {
    "board": lambda deal: reverse("crm:opportunity_board"),
    "list": lambda deal: reverse("crm:opportunity_list"),
    "forecast": lambda deal: reverse("crm:opportunity_forecast"),
    "detail": lambda deal: deal.get_absolute_url(),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGE_READS))
def test_pages_are_read_by_every_role(signed_in, deal, role, page):
    response = signed_in(role).get(PAGE_READS[page](deal))
    assert allowed(response.status_code) == (role in READERS)


@pytest.mark.parametrize("role", ROLES)
def test_creating_a_deal_page(signed_in, customer, role):
    response = signed_in(role).get(reverse("crm:opportunity_create", args=[customer.pk]))
    assert allowed(response.status_code) == (role in CREATORS)


@pytest.mark.parametrize("role", ROLES)
def test_changing_reps_deal_on_the_pages(signed_in, deal, role):
    client = signed_in(role)
    may = role in CHANGERS_OF_REPS_DEAL
    assert allowed(client.get(reverse("crm:opportunity_edit", args=[deal.pk])).status_code) == may
    moved = client.post(reverse("crm:opportunity_move", args=[deal.pk]), {"stage": stage("Proposal").pk}, headers=HTMX)
    assert allowed(moved.status_code) == may
    lines = client.post(
        reverse("crm:opportunity_lines", args=[deal.pk]),
        {
            "lines-count": 1,
            "lines-0-description": "Day",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "9",
            "_action": "save",
        },
        headers=HTMX,
    )
    assert allowed(lines.status_code) == may
    deal.refresh_from_db()
    assert (deal.stage.name == "Proposal") == may
    assert deal.lines.exists() == may


@pytest.mark.parametrize("role", ROLES)
def test_the_owner_field_is_offered_to_those_who_reassign(signed_in, deal, role):
    response = signed_in(role).get(reverse("crm:opportunity_edit", args=[deal.pk]))
    if role in CHANGERS_OF_REPS_DEAL:
        assert ("owner" in response.context["form"].fields) == (role in REASSIGNERS)


# --- the API -----------------------------------------------------------------------------


@pytest.fixture
def as_actor(actors, token_client):
    def make(name):
        return token_client(actors[name], scope="write")

    return make


def api(deal, action=""):
    return f"/api/v1/opportunities/{deal.pk}/{action + '/' if action else ''}"


@pytest.mark.parametrize("role", ROLES)
def test_api_reads(as_actor, deal, role):
    client = as_actor(role)
    assert allowed(client.get("/api/v1/opportunities/").status_code) == (role in READERS)
    assert allowed(client.get(api(deal)).status_code) == (role in READERS)


@pytest.mark.parametrize("role", ROLES)
def test_api_create(as_actor, customer, rep, role):
    body = {"customer": customer.pk, "name": "New", "expected_close_date": "2027-01-31"}
    if role == "admin":
        body["owner"] = rep.pk  # not in sales: names the rep who owns it
    response = as_actor(role).post("/api/v1/opportunities/", body, format="json")
    assert allowed(response.status_code) == (role in CREATORS)


@pytest.mark.parametrize("role", ROLES)
def test_api_changes_to_reps_deal(as_actor, deal, role):
    client = as_actor(role)
    may = role in CHANGERS_OF_REPS_DEAL
    patched = client.patch(api(deal), {"next_step": "Call"}, format="json")
    assert allowed(patched.status_code) == may
    if not may:
        assert patched.status_code in (403, 404) if role == "outsider" else patched.status_code == 403
    moved = client.post(api(deal, "move"), {"stage": stage("Proposal").pk}, format="json")
    assert allowed(moved.status_code) == may
    lost = client.post(api(deal, "lose"), {"reason": "No budget"}, format="json")
    assert allowed(lost.status_code) == may


@pytest.mark.parametrize("role", ["rep", "sales_manager", "admin"])
def test_api_reassigning_is_for_managers(as_actor, deal, other_rep, role):
    response = as_actor(role).patch(api(deal), {"owner": other_rep.pk}, format="json")
    assert allowed(response.status_code) == (role in REASSIGNERS)
    if role == "rep":
        assert response.status_code == 403
    deal.refresh_from_db()
    assert (deal.owner == other_rep) == (role in REASSIGNERS)


def test_a_manager_reassigns_on_the_page(signed_in, deal, other_rep):
    response = signed_in("sales_manager").post(
        reverse("crm:opportunity_edit", args=[deal.pk]),
        {
            "version": deal.version,
            "name": deal.name,
            "expected_close_date": "2027-01-31",
            "payment_terms": "net",
            "payment_days": "30",
            "owner": other_rep.pk,
        },
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.owner == other_rep
