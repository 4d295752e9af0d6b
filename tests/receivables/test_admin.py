"""Invoices, credit notes, plans and payments are looked up in the admin, never written
there: their services keep numbering, the ledger and the feed."""

from datetime import date

import pytest
from django.urls import reverse

from billing.models import Invoice
from receivables import services
from receivables.models import Payment

pytestmark = pytest.mark.django_db

MODELS = [
    "billing.invoice",
    "billing.creditnote",
    "billing.billingplan",
    "billing.billingrun",
    "receivables.payment",
    "receivables.writeoff",
    "receivables.credithold",
]


@pytest.fixture
def ledger(clerk, customer, issue):
    issue("100.00")
    return services.record_payment(customer=customer, by=clerk, data={"received_on": date(2026, 4, 1), "amount": "60"})


@pytest.mark.parametrize("model", MODELS)
def test_the_admin_lists_but_does_not_add(client, admin_user, ledger, model):
    app, name = model.split(".")
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:{app}_{name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:{app}_{name}_add")).status_code == 403


def test_a_payment_opens_read_only_and_cannot_be_deleted(client, admin_user, ledger):
    client.force_login(admin_user)
    page = client.get(reverse("admin:receivables_payment_change", args=[ledger.pk]))
    assert page.status_code == 200 and b"PAY-2026-000001" in page.content
    response = client.post(reverse("admin:receivables_payment_delete", args=[ledger.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Payment.objects.filter(pk=ledger.pk).exists()
    invoice = Invoice.objects.get()
    assert client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).status_code == 200
