"""Billing's pages. Each module of billing.views routes its own records here."""

from .views import invoices, plans

app_name = "billing"
urlpatterns = [*invoices.urlpatterns, *plans.urlpatterns]
