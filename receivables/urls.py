"""Receivables' pages. Each module of receivables.views routes its own records here."""

from .views import aging, collections, credit, disputes, dunning, payments, policies, statements

app_name = "receivables"
urlpatterns = [
    *payments.urlpatterns,
    *aging.urlpatterns,
    *credit.urlpatterns,
    *statements.urlpatterns,
    *dunning.urlpatterns,
    *collections.urlpatterns,
    *disputes.urlpatterns,
    *policies.urlpatterns,
]
