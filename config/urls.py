from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from core import views
from core.api import docs

urlpatterns = [
    path("", include("accounts.urls")),
    path("", include("dashboards.urls")),
    path("", include("crm.urls")),
    path("", include("billing.urls")),
    path("", include("receivables.urls")),
    path("", include("collaboration.urls")),
    path("", include("core.urls")),
    path("search/", views.search, name="search"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", docs.swagger_ui, name="api_docs"),
    path("api/redoc/", docs.redoc, name="api_redoc"),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
