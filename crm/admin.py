"""The admin is a page like any other: it writes customers and contacts through
crm.services and shows the fields a user may not change read-only, as the
record page's form does (crm.permissions.CUSTOMER_FIELDS)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.text import capfirst

from core.admin import ReadOnlyAdmin
from core.concurrency import StaleVersion

from . import catalog, services
from .forms import STALE_CUSTOMER
from .models import (
    Contact,
    Customer,
    Lead,
    Opportunity,
    OpportunityLine,
    Product,
    Quote,
    ServiceCase,
    Stage,
    TaxRate,
    owner_choices,
)
from .permissions import CUSTOMER_FIELDS, can_delete_customer, can_edit_contacts

CONTACT_FIELDS = ("name", "email", "phone", "job_title", "is_primary")


class ServiceErrorsAsMessagesMixin:
    """What a service refuses at save time, after the form's own validation passed
    (a request racing this one), is shown as an error on the page, not a 500;
    nothing of the save is kept (the admin's transaction is rolled back)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StaleVersion:
            messages.error(request, STALE_CUSTOMER)
            return HttpResponseRedirect(request.get_full_path())
        except (ValidationError, services.CustomerInUse) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])) + " Nothing was saved.")
            return HttpResponseRedirect(request.get_full_path())


class CustomerAdminForm(forms.ModelForm):
    # The version the page was opened with: a save over someone else's change is refused.
    # (Not named `version`: the model field is not editable, so a form may not name it.)
    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = CONTACT_FIELDS

    def _may_keep(self, request, obj):
        return obj is None or can_edit_contacts(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._may_keep(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_keep(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_keep(request, obj)


@admin.register(Customer)
class CustomerAdmin(ServiceErrorsAsMessagesMixin, admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ("name", "tax_id", "owner", "status", "currency", "terms_label", "credit_limit", "updated_at")
    list_filter = ("status", "currency", "payment_terms")
    list_select_related = ("owner",)
    search_fields = ("name", "legal_name", "email", "tax_id")
    inlines = [ContactInline]
    # One section per field group of the one declaration (crm.permissions), so the
    # admin shows who keeps what the way the record page does.
    fieldsets = [
        (
            None if index == 0 else capfirst(group.label),
            {"fields": group.fields + (("opened_version",) if index == 0 else ())},
        )
        for index, group in enumerate(CUSTOMER_FIELDS.groups)
    ]

    def get_readonly_fields(self, request, obj=None):
        editable = CUSTOMER_FIELDS.editable(request.user, obj)
        return [field for field in CUSTOMER_FIELDS.fields if field not in editable]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "owner" in form.base_fields:
            # The same choices as the record page's form and the API.
            form.base_fields["owner"].queryset = owner_choices(obj)
        if obj is not None:
            form.base_fields["opened_version"].initial = obj.version
        return form

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and can_delete_customer(request.user, obj)

    def save_model(self, request, obj, form, change):
        guarded = [name for name in CUSTOMER_FIELDS.fields if name in form.cleaned_data]
        if change:
            data = {name: form.cleaned_data[name] for name in guarded if name in form.changed_data}
            saved = services.update_customer(
                customer=obj, by=request.user, data=data, expected_version=form.cleaned_data.get("opened_version")
            )
        else:
            data = {name: form.cleaned_data[name] for name in guarded}
            saved = services.create_customer(by=request.user, data=data)
        # The admin goes on with `obj` (inline contacts, the log, the redirect).
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        if formset.model is not Contact:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        customer = form.instance
        for contact in formset.deleted_objects:
            services.delete_contact(contact=contact, by=request.user)
        for contact, changed in formset.changed_objects:
            data = {name: getattr(contact, name) for name in changed if name in CONTACT_FIELDS}
            services.update_contact(contact=contact, by=request.user, data=data)
        for contact in formset.new_objects:
            data = {name: getattr(contact, name) for name in CONTACT_FIELDS}
            services.create_contact(customer=customer, by=request.user, data=data)

    def delete_model(self, request, obj):
        services.delete_customer(customer=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            services.delete_customer(customer=customer, by=request.user)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except services.CustomerInUse as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(request.path.rsplit("delete/", 1)[0])


@admin.register(Contact)
class ContactAdmin(ServiceErrorsAsMessagesMixin, admin.ModelAdmin):
    list_display = ("name", "customer", "email", "phone", "job_title", "is_primary")
    list_select_related = ("customer",)
    search_fields = ("name", "email", "customer__name")
    autocomplete_fields = ("customer",)
    fields = ("customer", *CONTACT_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        return ("customer",) if obj is not None else ()  # a contact stays with its customer

    def save_model(self, request, obj, form, change):
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data if name in CONTACT_FIELDS}
            saved = services.update_contact(contact=obj, by=request.user, data=data)
        else:
            data = {name: form.cleaned_data[name] for name in CONTACT_FIELDS if name in form.cleaned_data}
            saved = services.create_contact(customer=form.cleaned_data["customer"], by=request.user, data=data)
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.delete_contact(contact=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for contact in queryset.select_related("customer"):
            services.delete_contact(contact=contact, by=request.user)


class CatalogAdmin(ServiceErrorsAsMessagesMixin, admin.ModelAdmin):
    """Products, tax rates and stages: saved through crm.catalog, never deleted here
    (set inactive instead: lines and deals point to them)."""

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data}
            saved = catalog.KEEPERS[self.model].update(obj, by=request.user, data=data)
        else:
            data = {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
            saved = catalog.KEEPERS[self.model].create(by=request.user, data=data)
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False


@admin.register(Product)
class ProductAdmin(CatalogAdmin):
    list_display = ("code", "name", "unit_price", "currency", "default_tax_rate", "is_active")
    list_filter = ("is_active", "currency")
    search_fields = ("code", "name")
    fields = catalog.PRODUCT_FIELDS


@admin.register(TaxRate)
class TaxRateAdmin(CatalogAdmin):
    list_display = ("name", "percentage", "is_active")
    fields = catalog.TAX_RATE_FIELDS


@admin.register(Stage)
class StageAdmin(CatalogAdmin):
    list_display = ("name", "order", "probability", "is_won", "is_lost")
    fields = (*catalog.STAGE_FIELDS, "is_won", "is_lost")
    readonly_fields = ("is_won", "is_lost")


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = ("name", "company", "status", "source", "owner", "created_at")
    list_filter = ("status", "source")
    list_select_related = ("owner",)
    search_fields = ("name", "company", "email")


class OpportunityLineInline(admin.TabularInline):
    model = OpportunityLine
    fields = ("description", "product", "quantity", "unit_price", "discount_percent", "tax_rate", "amount")
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdmin):
    list_display = ("name", "customer", "stage", "amount", "currency", "expected_close_date", "owner")
    list_filter = ("stage", "currency")
    list_select_related = ("customer", "stage", "owner")
    search_fields = ("name", "customer__name")
    inlines = [OpportunityLineInline]


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin):
    list_display = ("number", "customer", "status", "total", "currency", "issue_date", "valid_until")
    list_filter = ("status",)
    list_select_related = ("customer",)
    search_fields = ("number", "customer__name")


@admin.register(ServiceCase)
class ServiceCaseAdmin(ReadOnlyAdmin):
    list_display = ("subject", "customer", "severity", "status", "owner", "created_at")
    list_filter = ("status", "severity")
    list_select_related = ("customer", "owner")
    search_fields = ("subject", "customer__name")
