"""Invoices, credit notes and billing plans are worked on their own pages, whose
services (billing.services, billing.plans) keep numbering, immutability and the feed:
the admin only looks them up."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import BillingPlan, BillingPlanLine, BillingRun, CreditNote, CreditNoteLine, Invoice, InvoiceLine

LINE_FIELDS = ("description", "product", "quantity", "unit_price", "discount_percent", "tax_name", "amount")


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = LINE_FIELDS


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "customer", "status", "issue_date", "due_date", "total", "balance_due", "currency")
    list_filter = ("status", "currency")
    list_select_related = ("customer",)
    search_fields = ("number", "customer__name")
    date_hierarchy = "issue_date"
    inlines = [InvoiceLineInline]


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    fields = LINE_FIELDS


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ("number", "invoice", "customer", "issue_date", "total", "currency")
    list_select_related = ("invoice", "customer")
    search_fields = ("number", "invoice__number", "customer__name")
    inlines = [CreditNoteLineInline]


class BillingPlanLineInline(ReadOnlyInline):
    model = BillingPlanLine
    fields = ("description", "product", "quantity", "unit_price", "discount_percent", "tax_rate")


@admin.register(BillingPlan)
class BillingPlanAdmin(ReadOnlyAdmin):
    list_display = ("name", "customer", "interval", "start_date", "end_date", "next_invoice_date", "is_active")
    list_filter = ("interval", "is_active")
    list_select_related = ("customer",)
    search_fields = ("name", "customer__name")
    inlines = [BillingPlanLineInline]


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = ("as_of", "status", "plans_done", "plans_total", "invoices_created", "invoices_issued")
    list_filter = ("status",)
