from django.urls import path
from django.views.generic import TemplateView

app_name = "crm"
# Stub: replaced by the pages work.
urlpatterns = [
    path("", TemplateView.as_view(template_name="base.html"), name="customer_list"),
]
