"""The deal pages: creating a deal from a customer, its record page (stage path,
terms that differ from the customer's), editing it with a version check, and the
lines editor, which saves every line or none and says next to each what is wrong."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from collaboration.models import FeedItem
from crm import opportunities
from crm.models import Opportunity, PaymentTerms
from tests.factories import OpportunityLineFactory, ProductFactory, TaxRateFactory, stage

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def deal(rep, customer):
    return opportunities.create_opportunity(
        by=rep, customer=customer, data={"name": "Acme rollout", "expected_close_date": date(2027, 3, 31)}
    )


def lines_url(deal):
    return reverse("crm:opportunity_lines", args=[deal.pk])


def line_post(deal, *rows, action="save", **extra):
    data = {"version": deal.version, "lines-count": len(rows), "_action": action, **extra}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{index}-{name}"] = value
    return data


class TestCreate:
    def test_a_rep_creates_a_deal_from_the_customer_with_its_terms_prefilled(self, signed_in, customer):
        customer.payment_terms, customer.payment_days = PaymentTerms.NET, 45
        customer.save()
        client = signed_in("rep")
        url = reverse("crm:opportunity_create", args=[customer.pk])
        page = client.get(url)
        assert page.status_code == 200
        form = page.context["form"]
        assert (form.initial["payment_terms"], form.initial["payment_days"]) == ("net", 45)
        assert "owner" not in form.fields  # only managers name another owner
        assert "Customer's terms: Net 45" in page.text
        response = client.post(
            url,
            {
                "name": "Rollout 2027",
                "expected_close_date": "2027-05-31",
                "stage": stage("Proposal").pk,
                "payment_terms": "net",
                "payment_days": "60",
                "next_step": "Call the buyer",
            },
        )
        deal = Opportunity.objects.get(name="Rollout 2027")
        assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
        assert (deal.stage.name, deal.payment_days, deal.owner.username) == ("Proposal", 60, "rep")

    def test_the_detail_page_says_when_the_terms_differ_from_the_customers(self, signed_in, rep, deal):
        page = signed_in("rep").get(deal.get_absolute_url())
        assert 'id="terms-differ"' not in page.text
        opportunities.update_opportunity(opportunity=deal, by=rep, data={"payment_days": 60})
        page = signed_in("rep").get(deal.get_absolute_url())
        assert "Customer&#x27;s terms: Net 30" in page.text or "Customer's terms: Net 30" in page.text
        assert 'aria-current="step"' in page.text and "Qualification" in page.text

    def test_a_closed_stage_cannot_be_chosen_for_a_new_deal(self, signed_in, customer):
        response = signed_in("rep").post(
            reverse("crm:opportunity_create", args=[customer.pk]),
            {
                "name": "X",
                "expected_close_date": "2027-05-31",
                "stage": stage("Won").pk,
                "payment_terms": "net",
                "payment_days": "30",
            },
        )
        assert response.status_code == 200 and response.context["form"].errors["stage"]
        assert not Opportunity.objects.exists()

    def test_a_manager_may_name_the_owner(self, signed_in, customer, other_rep):
        client = signed_in("sales_manager")
        response = client.post(
            reverse("crm:opportunity_create", args=[customer.pk]),
            {
                "name": "For Otto",
                "expected_close_date": "2027-05-31",
                "stage": stage("Qualification").pk,
                "payment_terms": "net",
                "payment_days": "30",
                "owner": other_rep.pk,
            },
        )
        assert response.status_code == 302
        assert Opportunity.objects.get(name="For Otto").owner == other_rep


class TestEdit:
    def test_a_stale_edit_is_refused_and_shows_what_is_stored(self, signed_in, rep, deal):
        client = signed_in("rep")
        url = reverse("crm:opportunity_edit", args=[deal.pk])
        opened = client.get(url).context["form"].initial["version"]
        opportunities.update_opportunity(opportunity=deal, by=rep, data={"next_step": "Someone else's step"})
        response = client.post(
            url,
            {
                "version": opened,
                "name": "Mine",
                "expected_close_date": "2027-04-30",
                "payment_terms": "net",
                "payment_days": "30",
                "next_step": "My step",
            },
        )
        assert response.status_code == 200
        assert "changed by someone else" in response.text
        deal.refresh_from_db()
        assert (deal.name, deal.next_step) == ("Acme rollout", "Someone else's step")

    def test_an_edit_saves_through_the_service_and_tracks_the_terms(self, signed_in, deal):
        response = signed_in("rep").post(
            reverse("crm:opportunity_edit", args=[deal.pk]),
            {
                "version": deal.version,
                "name": "Acme rollout",
                "expected_close_date": "2027-04-30",
                "payment_terms": "net",
                "payment_days": "45",
                "next_step": "",
            },
        )
        assert response.status_code == 302
        deal.refresh_from_db()
        assert (deal.payment_days, deal.version) == (45, 2)


class TestLinesEditor:
    def test_saving_two_lines_prices_them_and_updates_the_amount(self, signed_in, deal):
        product = ProductFactory(name="Support plan", unit_price=Decimal("1200.00"))
        response = signed_in("rep").post(
            lines_url(deal),
            line_post(
                deal,
                {"product": product.pk, "quantity": "2", "tax_rate": product.default_tax_rate_id},
                {"description": "Setup", "quantity": "1.5", "unit_price": "0.67", "discount_percent": ""},
                {},  # a blank row is dropped
            ),
            headers=HTMX,
        )
        assert response.status_code == 200
        assert "Saved 2 lines." in response.text
        assert 'id="deal-amount" hx-swap-oob="true"' in response.text
        deal.refresh_from_db()
        assert deal.amount == Decimal("2401.01")
        assert [line.description for line in deal.lines.all()] == ["Support plan", "Setup"]

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            ({"description": "Widgets", "quantity": "-1", "unit_price": "10"}, "The quantity must be more than 0."),
            (
                {"description": "Widgets", "quantity": "1", "unit_price": "10", "discount_percent": "101"},
                "The discount must be between 0 and 100 %.",
            ),
            ({"description": "Widgets", "quantity": "1", "unit_price": ""}, "Enter a unit price."),
        ],
        ids=["negative quantity", "discount 101", "missing price"],
    )
    def test_a_bad_line_is_refused_next_to_it_and_nothing_is_saved(self, signed_in, deal, row, message):
        OpportunityLineFactory(opportunity=deal, description="Kept", unit_price=Decimal("5.00"))
        good = {"description": "Good line", "quantity": "1", "unit_price": "100"}
        response = signed_in("rep").post(lines_url(deal), line_post(deal, good, row), headers=HTMX)
        assert response.status_code == 400
        assert f"Line 2: {message}" in response.text
        assert "Nothing was saved: correct the 1 line marked below." in response.text
        assert f'id="line-1-errors"><li>Line 2: {message}' in response.text
        assert 'id="line-0-errors"></ul>' in response.text  # the good line has none
        assert 'value="Good line"' in response.text  # what was typed is kept
        assert [line.description for line in deal.lines.all()] == ["Kept"]
        deal.refresh_from_db()
        assert deal.version == 1

    def test_choosing_a_product_fills_its_price_and_tax_without_saving(self, signed_in, deal):
        vat = TaxRateFactory(name="VAT 7%", percentage=Decimal("7"))
        product = ProductFactory(name="Licence", unit_price=Decimal("99.90"), default_tax_rate=vat)
        data = line_post(deal, {"product": product.pk}, action="preview", _fill="0")
        response = signed_in("rep").post(lines_url(deal), data, headers=HTMX)
        assert response.status_code == 200
        assert 'value="Licence"' in response.text and 'value="99.90"' in response.text
        assert f'<option value="{vat.pk}" selected>' in response.text
        assert ">99.90<" in response.text  # the line's amount, priced by the server
        assert not deal.lines.exists()

    def test_typing_prices_the_row_and_swaps_only_the_figures(self, signed_in, deal):
        data = line_post(deal, {"description": "Day", "quantity": "1.5", "unit_price": "0.67"}, action="preview")
        response = signed_in("rep").post(lines_url(deal), data, headers=HTMX)
        assert 'id="line-0-amount" hx-swap-oob="true">1.01<' in response.text
        assert 'id="lines-total" hx-swap-oob="true">1.01' in response.text
        assert "<input" not in response.text  # what is being typed in is left alone
        typed_wrong = line_post(deal, {"description": "Day", "quantity": "-1", "unit_price": ""}, action="preview")
        response = signed_in("rep").post(lines_url(deal), typed_wrong, headers=HTMX)
        assert "Line 1: The quantity must be more than 0." in response.text
        assert "Enter a unit price" not in response.text  # still being filled in: said when saving
        assert not deal.lines.exists()

    def test_adding_and_removing_rows_saves_nothing(self, signed_in, deal):
        client = signed_in("rep")
        added = client.post(lines_url(deal), line_post(deal, action="add"), headers=HTMX)
        assert 'id="id_lines-0-quantity"' in added.text
        removed = client.post(
            lines_url(deal),
            line_post(deal, {"description": "x"}, {"description": "y"}, action="", _remove="0"),
            headers=HTMX,
        )
        assert 'value="y"' in removed.text and 'value="x"' not in removed.text
        assert not deal.lines.exists()

    def test_a_stale_save_keeps_what_was_typed(self, signed_in, rep, deal):
        data = line_post(deal, {"description": "Mine", "quantity": "1", "unit_price": "10"})
        opportunities.update_opportunity(opportunity=deal, by=rep, data={"next_step": "moved on"})
        response = signed_in("rep").post(lines_url(deal), data, headers=HTMX)
        assert response.status_code == 409
        assert "changed by someone else" in response.text and 'value="Mine"' in response.text
        assert not deal.lines.exists()

    def test_without_javascript_saving_returns_to_the_deal(self, signed_in, deal):
        response = signed_in("rep").post(
            lines_url(deal), line_post(deal, {"description": "Day", "quantity": "1", "unit_price": "800"})
        )
        assert response.status_code == 302
        deal.refresh_from_db()
        assert deal.amount == Decimal("800.00")


class TestStagePath:
    def test_the_path_moves_the_deal_and_the_feed_records_it(self, signed_in, deal):
        client = signed_in("rep")
        response = client.post(reverse("crm:opportunity_move", args=[deal.pk]), {"stage": stage("Proposal").pk})
        assert response.status_code == 302
        deal.refresh_from_db()
        assert deal.stage.name == "Proposal"
        assert FeedItem.objects.filter(verb__contains="change").exists() or FeedItem.objects.count() >= 2

    def test_winning_without_lines_is_refused_with_a_message(self, signed_in, deal):
        client = signed_in("rep")
        response = client.post(reverse("crm:opportunity_move", args=[deal.pk]), {"stage": stage("Won").pk}, follow=True)
        assert "Add at least one line before winning the deal" in response.text
        deal.refresh_from_db()
        assert deal.stage.name == "Qualification"

    def test_losing_asks_a_reason(self, signed_in, deal):
        client = signed_in("rep")
        url = reverse("crm:opportunity_move", args=[deal.pk])
        response = client.post(url, {"stage": stage("Lost").pk}, follow=True)
        assert "Say why the deal was lost." in response.text
        client.post(url, {"stage": stage("Lost").pk, "lost_reason": "Budget cut"})
        deal.refresh_from_db()
        assert (deal.stage.name, deal.lost_reason) == ("Lost", "Budget cut")
