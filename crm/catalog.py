"""The catalog and the pipeline's stages: who may change them, and the operations
that do. Pages, the admin, the API and tests call these.

- Everyone with a role reads products, tax rates and stages.
- Sales and finance managers keep the products (prices are both a sales and a
  billing matter); finance managers keep the tax rates; sales managers keep the stages.
- Nothing is deleted once used: products and tax rates are set inactive.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction

from .models import Product, Stage, TaxRate

PRODUCT_FIELDS = ("code", "name", "description", "unit_price", "currency", "default_tax_rate", "is_active")
TAX_RATE_FIELDS = ("name", "percentage", "is_active")
STAGE_FIELDS = ("name", "order", "probability")


def can_manage_products(user) -> bool:
    return user.is_authenticated and user.has_perm("crm.change_product")


def can_manage_tax_rates(user) -> bool:
    return user.is_authenticated and user.has_perm("crm.change_taxrate")


def can_manage_stages(user) -> bool:
    return user.is_authenticated and user.has_perm("crm.change_stage")


def _save(record: models.Model, data: dict[str, Any], allowed: tuple[str, ...]) -> models.Model:
    """Assign `data` (only `allowed` fields), validate like a form would, save. A
    duplicate that a racing request saved first is reported on its field too."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    for name, value in data.items():
        field = record._meta.get_field(name)
        if field.is_relation and value is not None and not isinstance(value, field.related_model):
            raise ValidationError({name: f"Choose a valid {field.verbose_name}."})
        setattr(record, name, value)
    record.full_clean()
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        record.validate_unique()  # names the field another request took meanwhile
        raise
    return record


def _number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@transaction.atomic
def create_product(*, by, data: dict[str, Any]) -> Product:
    if not can_manage_products(by):
        raise PermissionDenied("Only sales and finance managers change the catalog.")
    return _save(Product(), data, PRODUCT_FIELDS)


@transaction.atomic
def update_product(*, product: Product, by, data: dict[str, Any]) -> Product:
    """Change a product. Deals and invoices keep the price they copied."""
    if not can_manage_products(by):
        raise PermissionDenied("Only sales and finance managers change the catalog.")
    product = Product.objects.select_for_update().get(pk=product.pk)
    return _save(product, data, PRODUCT_FIELDS)


@transaction.atomic
def create_tax_rate(*, by, data: dict[str, Any]) -> TaxRate:
    if not can_manage_tax_rates(by):
        raise PermissionDenied("Only finance managers change tax rates.")
    return _save(TaxRate(), data, TAX_RATE_FIELDS)


@transaction.atomic
def update_tax_rate(*, tax_rate: TaxRate, by, data: dict[str, Any]) -> TaxRate:
    """Change a tax rate. Lines keep the percentage they copied; a rate no longer
    charged is set inactive rather than changed, so documents stay explainable."""
    if not can_manage_tax_rates(by):
        raise PermissionDenied("Only finance managers change tax rates.")
    tax_rate = TaxRate.objects.select_for_update().get(pk=tax_rate.pk)
    return _save(tax_rate, data, TAX_RATE_FIELDS)


@transaction.atomic
def update_stage(*, stage: Stage, by, data: dict[str, Any]) -> Stage:
    """Rename a stage, move it on the board or change its probability. Which stage
    wins and which loses a deal is fixed (the forecast and invoicing rely on it)."""
    if not can_manage_stages(by):
        raise PermissionDenied("Only sales managers change the pipeline's stages.")
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    if stage.is_closed and "probability" in data and _number(data["probability"]) != stage.probability:
        raise ValidationError({"probability": "A won deal is 100% and a lost one 0%: this cannot change."})
    return _save(stage, data, STAGE_FIELDS)


@transaction.atomic
def create_stage(*, by, data: dict[str, Any]) -> Stage:
    """Add an open stage (won and lost exist once each, from the start)."""
    if not can_manage_stages(by):
        raise PermissionDenied("Only sales managers change the pipeline's stages.")
    return _save(Stage(), data, STAGE_FIELDS)


@dataclass(frozen=True)
class Keeper:
    """The two operations that write one catalog model, in the shape the admin and the
    API call them: create(by=, data=) and update(record, by=, data=)."""

    create: Callable[..., models.Model]
    update: Callable[..., models.Model]


KEEPERS: dict[type[models.Model], Keeper] = {
    Product: Keeper(create_product, lambda record, *, by, data: update_product(product=record, by=by, data=data)),
    TaxRate: Keeper(create_tax_rate, lambda record, *, by, data: update_tax_rate(tax_rate=record, by=by, data=data)),
    Stage: Keeper(create_stage, lambda record, *, by, data: update_stage(stage=record, by=by, data=data)),
}
