"""Every /api/v1/ resource, registered on one router."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
# Stub: the API work registers crm's viewsets here.
urlpatterns = router.urls
