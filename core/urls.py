"""The document pipeline's pages: the status partial, the download, the retry."""

from django.urls import path

from . import document_views

app_name = "core"
urlpatterns = [
    path("documents/<int:pk>/status/", document_views.document_status, name="document_status"),
    path("documents/<int:pk>/download/", document_views.document_download, name="document_download"),
    path("documents/<int:pk>/retry/", document_views.document_retry, name="document_retry"),
]
