"""What the invoice and credit-note PDFs read (core.documents kinds registered in
billing.apps)."""

from typing import Any

from core.money import tax_summary

from .models import CreditNote, Invoice


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    invoice = Invoice.objects.select_related("customer", "opportunity").get(pk=invoice.pk)
    lines = list(invoice.lines.all())
    return {"invoice": invoice, "lines": lines, "taxes": tax_summary(lines)}


def credit_note_context(note: CreditNote) -> dict[str, Any]:
    note = CreditNote.objects.select_related("invoice").get(pk=note.pk)
    lines = list(note.lines.all())
    return {"note": note, "invoice": note.invoice, "lines": lines, "taxes": tax_summary(lines)}
