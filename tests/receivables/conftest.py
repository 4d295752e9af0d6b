from datetime import date
from decimal import Decimal

import pytest

from billing import services as billing
from tests.factories import TaxRateFactory


@pytest.fixture
def issue(clerk, customer):
    """issue(net, on=date, customer=…) → an issued invoice of one untaxed line of `net`."""

    def make(net, *, on=date(2026, 3, 1), days=30, who=None):
        invoice = billing.create_invoice(
            by=clerk,
            customer=who or customer,
            data={"payment_days": days},
            lines=[{"description": "Services", "quantity": "1", "unit_price": str(net)}],
        )
        return billing.issue_invoice(invoice=invoice, by=clerk, on=on, render=False)

    return make


@pytest.fixture
def vat(db):
    return TaxRateFactory(name="VAT 19%", percentage=Decimal("19.00"))
