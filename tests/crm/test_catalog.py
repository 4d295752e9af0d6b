"""The catalog (products, tax rates) and the pipeline's stages: sensible defaults,
money rules, and who keeps what."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from crm import catalog
from crm.models import Product, Stage

pytestmark = pytest.mark.django_db


def test_the_pipeline_starts_with_the_usual_stages():
    stages = [(s.name, s.probability, s.is_won, s.is_lost) for s in Stage.objects.all()]
    assert stages == [
        ("Qualification", 10, False, False),
        ("Needs analysis", 25, False, False),
        ("Proposal", 50, False, False),
        ("Negotiation", 75, False, False),
        ("Won", 100, True, False),
        ("Lost", 0, False, True),
    ]


def test_there_is_one_won_and_one_lost_stage():
    with pytest.raises(IntegrityError), transaction.atomic():
        Stage.objects.create(name="Also won", order=95, probability=100, is_won=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stage.objects.create(name="Both", order=96, probability=50, is_won=False, is_lost=True)


def product_data(**changes):
    return {"code": "SUP-1", "name": "Support plan", "unit_price": Decimal("1200.00"), "currency": "EUR", **changes}


def test_a_manager_adds_a_product_with_its_default_tax_rate(sales_manager, finance_manager):
    vat = catalog.create_tax_rate(by=finance_manager, data={"name": "VAT 19%", "percentage": Decimal("19")})
    product = catalog.create_product(by=sales_manager, data=product_data(default_tax_rate=vat))
    assert (product.code, product.unit_price, product.default_tax_rate) == ("SUP-1", Decimal("1200.00"), vat)
    assert str(product) == "SUP-1 — Support plan"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit_price": Decimal("-1")}, "unit_price"),
        ({"unit_price": None}, "unit_price"),
        ({"unit_price": "lots"}, "unit_price"),
        ({"code": ""}, "code"),
        ({"currency": "XXX1"}, "currency"),
    ],
)
def test_a_product_without_a_sensible_price_or_code_is_refused(sales_manager, changes, field):
    with pytest.raises(ValidationError) as refused:
        catalog.create_product(by=sales_manager, data=product_data(**changes))
    assert field in refused.value.message_dict
    assert not Product.objects.exists()


def test_a_duplicate_code_is_reported_on_its_field(sales_manager):
    catalog.create_product(by=sales_manager, data=product_data())
    with pytest.raises(ValidationError) as refused:
        catalog.create_product(by=sales_manager, data=product_data(name="Another"))
    assert "code" in refused.value.message_dict


def test_fields_that_are_not_the_products_are_refused(sales_manager):
    with pytest.raises(ValidationError) as refused:
        catalog.create_product(by=sales_manager, data=product_data(created_at="2020-01-01"))
    assert "created_at" in refused.value.message_dict


@pytest.mark.parametrize("percentage", [Decimal("-0.01"), Decimal("100.01"), "abc"])
def test_a_tax_rate_is_a_percentage(finance_manager, percentage):
    with pytest.raises(ValidationError):
        catalog.create_tax_rate(by=finance_manager, data={"name": "Odd", "percentage": percentage})


def test_won_and_lost_keep_their_probability_but_open_stages_may_change(sales_manager):
    won = Stage.objects.get(is_won=True)
    with pytest.raises(ValidationError, match="100%"):
        catalog.update_stage(stage=won, by=sales_manager, data={"probability": 90})
    with pytest.raises(ValidationError):
        catalog.update_stage(stage=won, by=sales_manager, data={"probability": "junk"})
    catalog.update_stage(stage=won, by=sales_manager, data={"name": "Closed won"})
    proposal = Stage.objects.get(name="Proposal")
    catalog.update_stage(stage=proposal, by=sales_manager, data={"probability": 40})
    assert Stage.objects.get(pk=proposal.pk).probability == 40
    with pytest.raises(ValidationError):
        catalog.update_stage(stage=proposal, by=sales_manager, data={"probability": 101})


MATRIX = """
actor            products  tax_rates  stages
rep              no        no         no
sales_manager    yes       no         yes
clerk            no        no         no
finance_manager  yes       yes        no
admin            yes       yes        yes
outsider         no        no         no
"""


def _attempt(what, user):
    if what == "products":
        catalog.create_product(by=user, data=product_data(code=f"P-{user.pk}"))
    elif what == "tax_rates":
        catalog.create_tax_rate(by=user, data={"name": f"Rate {user.pk}", "percentage": Decimal("7")})
    else:
        catalog.create_stage(by=user, data={"name": f"Stage {user.pk}", "order": 50 + user.pk, "probability": 60})


@pytest.mark.parametrize(
    ("actor", "what", "allowed"),
    [
        (row.split()[0], what, value == "yes")
        for row in MATRIX.strip().splitlines()[1:]
        for what, value in zip(["products", "tax_rates", "stages"], row.split()[1:], strict=True)
    ],
)
def test_who_keeps_the_catalog(actors, actor, what, allowed):
    user = actors[actor]
    try:
        _attempt(what, user)
        done = True
    except PermissionDenied:
        done = False
    assert done == allowed


def test_everyone_with_a_role_reads_the_catalog(actors):
    for actor in ("rep", "clerk", "sales_manager", "finance_manager"):
        assert actors[actor].has_perm("crm.view_product") and actors[actor].has_perm("crm.view_stage")
    assert not actors["outsider"].has_perm("crm.view_product")


class TestAdmin:
    def test_the_admin_adds_and_changes_products_through_the_service(self, client, admin_user):
        client.force_login(admin_user)
        response = client.post(
            reverse("admin:crm_product_add"),
            {
                "code": "LIC-1",
                "name": "Licence",
                "description": "",
                "unit_price": "99.50",
                "currency": "EUR",
                "is_active": "on",
            },
        )
        assert response.status_code == 302, response.content[:500]
        product = Product.objects.get(code="LIC-1")
        response = client.post(
            reverse("admin:crm_product_change", args=[product.pk]),
            {"code": "LIC-1", "name": "Licence", "description": "", "unit_price": "-5", "currency": "EUR"},
        )
        assert response.status_code == 200  # the form says what is wrong
        product.refresh_from_db()
        assert product.unit_price == Decimal("99.50")

    def test_nothing_of_the_catalog_is_deleted_in_the_admin(self, client, admin_user):
        client.force_login(admin_user)
        stage = Stage.objects.get(name="Proposal")
        assert client.get(reverse("admin:crm_stage_delete", args=[stage.pk])).status_code == 403

    def test_the_admin_lists_load(self, client, admin_user):
        client.force_login(admin_user)
        for name in ("product", "taxrate", "stage"):
            assert client.get(reverse(f"admin:crm_{name}_changelist")).status_code == 200
