"""Payments, allocations, write-offs and holds are worked on their own pages, whose
services (receivables.services) keep the ledger's invariants and the feed: the admin
only looks them up."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Allocation, CreditHold, Payment, WriteOff


class AllocationInline(ReadOnlyInline):
    model = Allocation
    fields = ("invoice", "amount", "applied_on", "reversed_on")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("number", "customer", "received_on", "amount", "unapplied", "currency", "method", "status")
    list_filter = ("status", "method", "currency")
    list_select_related = ("customer",)
    search_fields = ("number", "reference", "customer__name")
    date_hierarchy = "received_on"
    inlines = [AllocationInline]


@admin.register(WriteOff)
class WriteOffAdmin(ReadOnlyAdmin):
    list_display = ("invoice", "amount", "status", "reason", "written_off_on")
    list_filter = ("status",)
    list_select_related = ("invoice",)


@admin.register(CreditHold)
class CreditHoldAdmin(ReadOnlyAdmin):
    list_display = ("customer", "reason", "until", "set_by", "set_at", "released_at")
    list_select_related = ("customer", "set_by")
    search_fields = ("customer__name", "reason")
