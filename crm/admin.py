from django.contrib import admin

from .models import Contact, Customer


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "email", "phone", "job_title", "is_primary")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "tax_id", "owner", "status", "currency", "terms_label", "credit_limit", "updated_at")
    list_filter = ("status", "currency", "payment_terms")
    list_select_related = ("owner",)
    search_fields = ("name", "legal_name", "email", "tax_id")
    autocomplete_fields = ("owner",)
    inlines = [ContactInline]
    fieldsets = [
        (None, {"fields": ("name", "email", "phone", "owner", "status")}),
        (
            "Billing",
            {
                "fields": (
                    "legal_name",
                    "tax_id",
                    "address_line1",
                    "address_line2",
                    "postal_code",
                    "city",
                    "region",
                    "country",
                    "currency",
                    ("payment_terms", "payment_days"),
                )
            },
        ),
        ("Credit", {"fields": ("credit_limit",)}),
    ]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "customer", "email", "phone", "job_title", "is_primary")
    list_select_related = ("customer",)
    search_fields = ("name", "email", "customer__name")
    autocomplete_fields = ("customer",)
