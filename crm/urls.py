"""The CRM's pages. Each module of crm.views routes its own kind of record here, under
its own prefix (customers/, leads/, deals/, quotes/, cases/, catalog/)."""

from django.urls import path

from .views import cases, catalog, customer_panels, customers, leads, opportunities, quotes

app_name = "crm"
urlpatterns = [
    path("customers/", customers.CustomerListView.as_view(), name="customer_list"),
    path("customers/new/", customers.CustomerCreateView.as_view(), name="customer_create"),
    path("customers/<int:pk>/", customers.CustomerDetailView.as_view(), name="customer_detail"),
    path("customers/<int:pk>/edit/", customers.CustomerUpdateView.as_view(), name="customer_edit"),
    path("customers/<int:pk>/panels/<slug:key>/", customer_panels.lazy_panel, name="customer_panel"),
    path("customers/<int:pk>/contacts/", customers.CustomerContactsView.as_view(), name="contact_panel"),
    path("customers/<int:pk>/contacts/new/", customers.ContactCreateView.as_view(), name="contact_create"),
    path(
        "customers/<int:pk>/contacts/<int:contact_pk>/edit/",
        customers.ContactUpdateView.as_view(),
        name="contact_edit",
    ),
    path(
        "customers/<int:pk>/contacts/<int:contact_pk>/delete/",
        customers.ContactDeleteView.as_view(),
        name="contact_delete",
    ),
]

# Each module routes its own pages (and may add more than the names above rely on).
urlpatterns += [
    *leads.urlpatterns,
    *opportunities.urlpatterns,
    *quotes.urlpatterns,
    *cases.urlpatterns,
    *catalog.urlpatterns,
]
