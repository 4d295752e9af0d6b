"""Every /api/v1/ resource, registered on one router (URL names `api:<basename>-list` / `-detail`)."""

from rest_framework.routers import DefaultRouter

from collaboration.api import ApprovalRequestViewSet, FeedItemViewSet, FollowViewSet, NotificationViewSet
from crm.api.customers import ContactViewSet, CustomerViewSet, ProductViewSet, StageViewSet, TaxRateViewSet

app_name = "api"

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("products", ProductViewSet, basename="product")
router.register("tax-rates", TaxRateViewSet, basename="tax-rate")
router.register("stages", StageViewSet, basename="stage")
router.register("feed", FeedItemViewSet, basename="feeditem")
router.register("follows", FollowViewSet, basename="follow")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("approvals", ApprovalRequestViewSet, basename="approval")

urlpatterns = router.urls

# --- leads and service cases ---
from crm.api.cases import ServiceCaseViewSet  # noqa: E402
from crm.api.leads import LeadViewSet  # noqa: E402

router.register("leads", LeadViewSet, basename="lead")
router.register("service-cases", ServiceCaseViewSet, basename="service-case")


# --- deals (pipeline) ---
from crm.api.opportunities import OpportunityViewSet  # noqa: E402

router.register("opportunities", OpportunityViewSet, basename="opportunity")

# --- quotes (quotes helper) ---
from crm.api.quotes import QuoteViewSet  # noqa: E402

router.register("quotes", QuoteViewSet, basename="quote")
urlpatterns = router.urls

# --- invoices and credit notes (billing API helper) ---
from billing.api.invoices import CreditNoteViewSet, InvoiceViewSet, OpportunityInvoiceViewSet  # noqa: E402

router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("credit-notes", CreditNoteViewSet, basename="credit-note")
# POST /opportunities/{id}/invoice/: billing's, so that crm never imports billing.
router.register(r"opportunities/(?P<pk>[^/.]+)/invoice", OpportunityInvoiceViewSet, basename="opportunity-invoice")

# --- recurring billing: plans and runs (billing.api.plans) ---
from billing.api.plans import BillingPlanViewSet, BillingRunViewSet  # noqa: E402

router.register("billing-plans", BillingPlanViewSet, basename="billing-plan")
router.register("billing-runs", BillingRunViewSet, basename="billing-run")
urlpatterns = router.urls

# --- aging (receivables) ---
from receivables.api.aging import AgingViewSet  # noqa: E402

router.register("aging", AgingViewSet, basename="aging")

# --- credit control (receivables) ---
from receivables.api.credit import CreditHoldViewSet, CustomerCreditViewSet  # noqa: E402

router.register("credit-holds", CreditHoldViewSet, basename="credit-hold")
# GET /customers/{id}/credit/: receivables' (only that action on the prefix), so that crm never imports receivables.
router.register("customers", CustomerCreditViewSet, basename="customer-credit")
urlpatterns = router.urls

# --- statements (receivables) ---
from receivables.api.statements import CustomerStatementViewSet  # noqa: E402

router.register(r"customers/(?P<customer_pk>[^/.]+)/statement", CustomerStatementViewSet, basename="customer-statement")
urlpatterns = router.urls

# --- payments and allocations (receivables) ---
from receivables.api.payments import AllocationViewSet, PaymentViewSet  # noqa: E402

router.register("payments", PaymentViewSet, basename="payment")
router.register("allocations", AllocationViewSet, basename="allocation")
urlpatterns = router.urls

# --- dunning (receivables) ---
from receivables.api.dunning import (  # noqa: E402
    CollectionTaskViewSet,
    DisputeViewSet,
    DunningHoldViewSet,
    DunningNoticeViewSet,
    DunningPolicyViewSet,
    DunningRunViewSet,
    PaymentPromiseViewSet,
)

router.register("dunning-policies", DunningPolicyViewSet, basename="dunning-policy")
router.register("dunning-runs", DunningRunViewSet, basename="dunning-run")
router.register("dunning-notices", DunningNoticeViewSet, basename="dunning-notice")
router.register("dunning-holds", DunningHoldViewSet, basename="dunning-hold")
router.register("disputes", DisputeViewSet, basename="dispute")
router.register("payment-promises", PaymentPromiseViewSet, basename="payment-promise")
router.register("collection-tasks", CollectionTaskViewSet, basename="collection-task")
urlpatterns = router.urls
