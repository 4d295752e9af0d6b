from django.urls import path

from . import views

app_name = "crm"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("new/", views.CustomerCreateView.as_view(), name="customer_create"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="customer_edit"),
    path("<int:pk>/contacts/", views.CustomerContactsView.as_view(), name="contact_panel"),
    path("<int:pk>/contacts/new/", views.ContactCreateView.as_view(), name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.ContactUpdateView.as_view(), name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_pk>/delete/", views.ContactDeleteView.as_view(), name="contact_delete"),
]
