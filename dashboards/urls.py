from django.urls import path

from . import views

# Not namespaced: `home` is the project-wide landing page (LOGIN_REDIRECT_URL).
urlpatterns = [
    path("", views.home, name="home"),
]
