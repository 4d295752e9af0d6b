from django.urls import path
from django.views.generic import TemplateView

# Stub: replaced by the pages work (home, login, password, tokens).
urlpatterns = [
    path("", TemplateView.as_view(template_name="base.html"), name="home"),
    path("tokens/", TemplateView.as_view(template_name="base.html"), name="token_list"),
    path("login/", TemplateView.as_view(template_name="base.html"), name="login"),
    path("logout/", TemplateView.as_view(template_name="base.html"), name="logout"),
    path("password/", TemplateView.as_view(template_name="base.html"), name="password_change"),
]
