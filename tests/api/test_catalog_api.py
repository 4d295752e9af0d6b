"""/api/v1/products/, /tax-rates/ and /stages/: read by every role, kept by the
roles that own them, through crm.catalog."""

from decimal import Decimal

import pytest

from crm.models import Product, Stage, TaxRate

from .helpers import error_of

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
TAX_RATES = "/api/v1/tax-rates/"
STAGES = "/api/v1/stages/"


@pytest.fixture
def vat():
    return TaxRate.objects.create(name="VAT 19%", percentage=Decimal("19.00"))


def product_body(**changes):
    return {"code": "SUP-1", "name": "Support plan", "unit_price": "1200.00", "currency": "EUR", **changes}


def test_a_sales_manager_adds_a_product_and_a_rep_reads_it(as_actor, vat):
    response = as_actor("sales_manager").post(PRODUCTS, product_body(default_tax_rate=vat.pk), format="json")
    assert response.status_code == 201, response.json()
    body = as_actor("rep").get(f"{PRODUCTS}{response.json()['id']}/").json()
    assert (body["code"], body["unit_price"], body["default_tax_rate"]) == ("SUP-1", "1200.00", vat.pk)


@pytest.mark.parametrize("actor", ["rep", "clerk"])
def test_reps_and_clerks_may_not_change_the_catalog(as_actor, actor):
    assert as_actor(actor).post(PRODUCTS, product_body(), format="json").status_code == 403
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit_price": "-1.00"}, "unit_price"),
        ({"unit_price": 12.5}, "unit_price"),  # money is a decimal string, never a float
        ({"unit_price": "1e400"}, "unit_price"),
        ({"code": ""}, "code"),
        ({"default_tax_rate": 999999}, "default_tax_rate"),
        ({"name": {"nested": ["json"]}}, "name"),
    ],
)
def test_bad_products_are_a_400_on_their_field(as_actor, changes, field):
    response = as_actor("sales_manager").post(PRODUCTS, product_body(**changes), format="json")
    assert response.status_code == 400
    assert field in str(response.json())
    assert not Product.objects.exists()


def test_a_duplicate_code_is_a_400_on_code(as_actor):
    client = as_actor("finance_manager")
    assert client.post(PRODUCTS, product_body(), format="json").status_code == 201
    response = client.post(PRODUCTS, product_body(name="Again"), format="json")
    assert response.status_code == 400 and "code" in str(response.json())


def test_nothing_in_the_catalog_is_deleted(as_actor, vat):
    assert as_actor("admin").delete(f"{TAX_RATES}{vat.pk}/").status_code == 405
    assert TaxRate.objects.filter(pk=vat.pk).exists()


def test_finance_managers_keep_tax_rates(as_actor, vat):
    assert (
        as_actor("sales_manager").patch(f"{TAX_RATES}{vat.pk}/", {"is_active": False}, format="json").status_code == 403
    )
    response = as_actor("finance_manager").patch(f"{TAX_RATES}{vat.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    bad = as_actor("finance_manager").patch(f"{TAX_RATES}{vat.pk}/", {"percentage": "100.01"}, format="json")
    assert bad.status_code == 400


def test_stages_list_in_board_order_and_won_keeps_its_probability(as_actor):
    names = [stage["name"] for stage in as_actor("clerk").get(STAGES).json()["results"]]
    assert names == ["Qualification", "Needs analysis", "Proposal", "Negotiation", "Won", "Lost"]
    won = Stage.objects.get(is_won=True)
    response = as_actor("sales_manager").patch(f"{STAGES}{won.pk}/", {"probability": 80}, format="json")
    assert response.status_code == 400 and "probability" in error_of(response)["fields"]
    assert as_actor("rep").patch(f"{STAGES}{won.pk}/", {"name": "Yay"}, format="json").status_code == 403


def test_the_product_list_costs_the_same_for_2_and_40_products(as_actor, vat, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_actor("rep")
    for n in range(2):
        Product.objects.create(code=f"A{n}", name="A", unit_price=Decimal("1"), default_tax_rate=vat)
    client.get(PRODUCTS)
    with CaptureQueriesContext(connection) as two:
        client.get(PRODUCTS)
    for n in range(38):
        Product.objects.create(code=f"B{n}", name="B", unit_price=Decimal("1"), default_tax_rate=vat)
    with django_assert_max_num_queries(len(two)):
        assert len(client.get(PRODUCTS).json()["results"]) == 40
