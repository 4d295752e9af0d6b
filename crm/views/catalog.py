"""Catalog pages: products, tax rates and the pipeline's stages. Read by every role;
changed through crm.catalog by the roles that keep them (the forms are offered only
to them, and the services refuse everyone else anyway)."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.generic import CreateView, ListView, UpdateView
from django_filters.views import FilterView

from .. import catalog
from ..filters import ProductFilterSet
from ..forms import ProductForm, StageForm, TaxRateForm
from ..models import Product, Stage, TaxRate


class CatalogListMixin(PermissionRequiredMixin):
    may_manage = staticmethod(lambda user: False)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "can_manage": self.may_manage(self.request.user)}


class ProductListView(CatalogListMixin, FilterView):
    permission_required = "crm.view_product"
    may_manage = staticmethod(catalog.can_manage_products)
    filterset_class = ProductFilterSet
    queryset = Product.objects.select_related("default_tax_rate").order_by("code")
    template_name = "crm/product_list.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["filter"].form
        form.fields["q"].widget.input_type = "search"
        form.fields["q"].widget.attrs.update({"class": "form-control", "placeholder": "Code or name"})
        form.fields["is_active"].empty_label = "Active and inactive"
        form.fields["is_active"].choices = (("true", "Active"), ("false", "Inactive"))
        form.fields["is_active"].widget.attrs["class"] = "form-select"
        context["shown_filters"] = ("q", "is_active")
        return context


class TaxRateListView(CatalogListMixin, ListView):
    permission_required = "crm.view_taxrate"
    may_manage = staticmethod(catalog.can_manage_tax_rates)
    queryset = TaxRate.objects.order_by("name")
    template_name = "crm/taxrate_list.html"


class StageListView(CatalogListMixin, ListView):
    permission_required = "crm.view_stage"
    may_manage = staticmethod(catalog.can_manage_stages)
    queryset = Stage.objects.order_by("order")
    template_name = "crm/stage_list.html"


class CatalogFormMixin(PermissionRequiredMixin):
    """A create or edit form for those who keep this part of the catalog (403 otherwise)."""

    template_name = "crm/catalog_form.html"
    list_url_name = ""
    noun = ""

    def has_permission(self):
        return self.request.user.is_authenticated and self.may_manage(self.request.user)

    def form_valid(self, form):
        try:
            self.object = self.save(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        except PermissionDenied:
            raise
        messages.success(self.request, f"Saved {self.noun} {self.object}.")
        return redirect(self.list_url_name)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "noun": self.noun,
            "list_url": reverse(self.list_url_name),
            "list_title": self.list_title,
        }


class ProductMixin(CatalogFormMixin):
    model, form_class, noun, list_url_name, list_title = Product, ProductForm, "product", "crm:product_list", "Products"
    may_manage = staticmethod(catalog.can_manage_products)


class TaxRateMixin(CatalogFormMixin):
    model, form_class, noun, list_url_name, list_title = (
        TaxRate,
        TaxRateForm,
        "tax rate",
        "crm:taxrate_list",
        "Tax rates",
    )
    may_manage = staticmethod(catalog.can_manage_tax_rates)


class StageMixin(CatalogFormMixin):
    model, form_class, noun, list_url_name, list_title = Stage, StageForm, "stage", "crm:stage_list", "Pipeline stages"
    may_manage = staticmethod(catalog.can_manage_stages)


class ProductCreateView(ProductMixin, CreateView):
    def save(self, data):
        return catalog.create_product(by=self.request.user, data=data)


class ProductUpdateView(ProductMixin, UpdateView):
    def save(self, data):
        return catalog.update_product(product=self.object, by=self.request.user, data=data)


class TaxRateCreateView(TaxRateMixin, CreateView):
    def save(self, data):
        return catalog.create_tax_rate(by=self.request.user, data=data)


class TaxRateUpdateView(TaxRateMixin, UpdateView):
    def save(self, data):
        return catalog.update_tax_rate(tax_rate=self.object, by=self.request.user, data=data)


class StageCreateView(StageMixin, CreateView):
    def save(self, data):
        return catalog.create_stage(by=self.request.user, data=data)


class StageUpdateView(StageMixin, UpdateView):
    def save(self, data):
        return catalog.update_stage(stage=self.object, by=self.request.user, data=data)


urlpatterns = [
    path("catalog/products/", ProductListView.as_view(), name="product_list"),
    path("catalog/products/new/", ProductCreateView.as_view(), name="product_create"),
    path("catalog/products/<int:pk>/edit/", ProductUpdateView.as_view(), name="product_edit"),
    path("catalog/tax-rates/", TaxRateListView.as_view(), name="taxrate_list"),
    path("catalog/tax-rates/new/", TaxRateCreateView.as_view(), name="taxrate_create"),
    path("catalog/tax-rates/<int:pk>/edit/", TaxRateUpdateView.as_view(), name="taxrate_edit"),
    path("catalog/stages/", StageListView.as_view(), name="stage_list"),
    path("catalog/stages/new/", StageCreateView.as_view(), name="stage_create"),
    path("catalog/stages/<int:pk>/edit/", StageUpdateView.as_view(), name="stage_edit"),
]
