from datetime import date
from decimal import Decimal

import pytest

from crm import opportunities
from tests.factories import TaxRateFactory


@pytest.fixture
def vat(db):
    return TaxRateFactory(name="VAT 19%", percentage=Decimal("19.00"))


@pytest.fixture
def won_deal(rep, customer, vat):
    """A deal `rep` won: 1.5 × 0.67 (1.005 → 1.01) and 10 × 99.99 less 12.5 % (874.91), 19 % VAT on both."""
    deal = opportunities.create_opportunity(
        by=rep,
        customer=customer,
        data={"name": "Acme rollout", "expected_close_date": date(2026, 12, 31), "payment_days": 45},
        lines=[
            {"description": "Widgets", "quantity": "1.5", "unit_price": "0.67", "tax_rate": vat},
            {
                "description": "Licences",
                "quantity": "10",
                "unit_price": "99.99",
                "discount_percent": "12.5",
                "tax_rate": vat,
            },
        ],
    )
    return opportunities.win(opportunity=deal, by=rep)
