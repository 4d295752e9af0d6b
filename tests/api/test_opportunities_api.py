"""/api/v1/opportunities/: deals through the same services as the pages. Lines are
written with the deal, all valid or none saved; the stage moves only through the
move, win and lose actions; bad input is 400, a won deal moved 409, a stale
If-Match 412, someone else's deal 403."""

from decimal import Decimal

import pytest

from crm import opportunities
from crm.models import Opportunity
from tests.api.helpers import error_of
from tests.factories import OpportunityFactory, OpportunityLineFactory, ProductFactory, stage

pytestmark = pytest.mark.django_db
URL = "/api/v1/opportunities/"


def url(deal, action=""):
    return f"{URL}{deal.pk}/{action + '/' if action else ''}"


@pytest.fixture
def deal(customer):
    return OpportunityFactory(customer=customer, name="Acme rollout")


def test_a_rep_creates_a_deal_with_lines(as_actor, customer):
    product = ProductFactory(unit_price=Decimal("1200.00"))
    response = as_actor("rep").post(
        URL,
        {
            "customer": customer.pk,
            "name": "Rollout",
            "expected_close_date": "2027-03-31",
            "lines": [
                {"product": product.pk, "quantity": "2"},
                {"description": "Setup", "quantity": "1.5", "unit_price": "0.67"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["currency"], body["stage_name"], body["owner_name"]) == (
        "2401.01",
        customer.currency,
        "Qualification",
        "Rita Rep",
    )
    assert [line["amount"] for line in body["lines"]] == ["2400.00", "1.01"]
    assert response["ETag"] == '"1"'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"description": "x", "quantity": "-1", "unit_price": "10"}, "more than 0"),
        ({"description": "x", "quantity": "1", "unit_price": "10", "discount_percent": "101"}, "between 0 and 100"),
        ({"description": "x", "quantity": "1"}, "Enter a unit price"),
    ],
)
def test_bad_lines_are_400_and_nothing_is_saved(as_actor, customer, line, message):
    response = as_actor("rep").post(
        URL,
        {"customer": customer.pk, "name": "Bad", "expected_close_date": "2027-03-31", "lines": [line]},
        format="json",
    )
    assert response.status_code == 400
    assert message in " ".join(error_of(response)["fields"]["lines"])
    assert not Opportunity.objects.exists()


def test_patch_replaces_the_lines_with_if_match(as_actor, deal):
    client = as_actor("rep")
    etag = client.get(url(deal))["ETag"]
    response = client.patch(
        url(deal),
        {"next_step": "Send the quote", "lines": [{"description": "Day", "quantity": "3", "unit_price": "800"}]},
        format="json",
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["amount"], response.json()["next_step"]) == ("2400.00", "Send the quote")
    stale = client.patch(url(deal), {"next_step": "again"}, format="json", headers={"If-Match": etag})
    assert stale.status_code == 412


def test_a_bad_line_in_a_patch_leaves_the_fields_unchanged_too(as_actor, deal):
    response = as_actor("rep").patch(
        url(deal),
        {"next_step": "Changed", "lines": [{"description": "x", "quantity": "0", "unit_price": "1"}]},
        format="json",
    )
    assert response.status_code == 400
    deal.refresh_from_db()
    assert deal.next_step == "" and deal.version == 1


def test_the_stage_is_not_patched(as_actor, deal):
    response = as_actor("rep").patch(url(deal), {"stage": stage("Proposal").pk}, format="json")
    assert response.status_code == 400
    assert "move" in error_of(response)["fields"]["stage"][0]


def test_move_win_and_lose(as_actor, deal):
    client = as_actor("rep")
    moved = client.post(url(deal, "move"), {"stage": stage("Negotiation").pk}, format="json")
    assert moved.status_code == 200 and moved.json()["stage_name"] == "Negotiation"
    refused = client.post(url(deal, "win"))
    assert refused.status_code == 400
    assert "Add at least one line" in error_of(refused)["message"] + str(error_of(refused).get("fields"))
    OpportunityLineFactory(opportunity=deal)
    won = client.post(url(deal, "win"))
    assert won.status_code == 200 and won.json()["stage_name"] == "Won"
    conflict = client.post(url(deal, "lose"), {"reason": "Changed our minds"}, format="json")
    assert conflict.status_code == 409
    assert error_of(conflict)["code"] == "conflict"


def test_losing_needs_a_reason(as_actor, deal):
    client = as_actor("rep")
    assert client.post(url(deal, "lose"), {}, format="json").status_code == 400
    assert client.post(url(deal, "move"), {"stage": stage("Lost").pk}, format="json").status_code == 400
    lost = client.post(url(deal, "lose"), {"reason": "Budget cut"}, format="json")
    assert lost.status_code == 200 and lost.json()["lost_reason"] == "Budget cut"


def test_the_list_filters_as_the_board_does(as_actor, deal, other_rep):
    OpportunityFactory(owner=other_rep, name="Globex renewal")
    client = as_actor("finance_manager")
    names = [row["name"] for row in client.get(URL, {"owner": other_rep.pk}).json()["results"]]
    assert names == ["Globex renewal"]
    month = deal.expected_close_date.strftime("%Y-%m")
    assert {row["name"] for row in client.get(URL, {"close_month": month}).json()["results"]} >= {"Acme rollout"}
    assert client.get(URL, {"close_month": "2026-13"}).status_code == 400
    assert "lines" in client.get(url(deal)).json()


def test_no_delete_and_no_put(as_actor, deal):
    client = as_actor("sales_manager")
    # Refused before the method is looked up (no role may delete deals), or as not allowed.
    assert client.delete(url(deal)).status_code in (403, 405)
    assert client.put(url(deal), {}, format="json").status_code == 405
    assert Opportunity.objects.filter(pk=deal.pk).exists()


def test_a_stale_move_is_412(as_actor, rep, deal):
    client = as_actor("rep")
    etag = client.get(url(deal))["ETag"]
    opportunities.update_opportunity(opportunity=deal, by=rep, data={"next_step": "x"})
    response = client.post(
        url(deal, "move"), {"stage": stage("Proposal").pk}, format="json", headers={"If-Match": etag}
    )
    assert response.status_code == 412
