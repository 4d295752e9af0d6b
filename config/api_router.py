"""Every /api/v1/ resource, registered on one router (URL names `api:<basename>-list` / `-detail`)."""

from rest_framework.routers import DefaultRouter

from crm.api import ContactViewSet, CustomerViewSet

app_name = "api"

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")

urlpatterns = router.urls
