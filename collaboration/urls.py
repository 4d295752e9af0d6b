from django.urls import path

from . import views

app_name = "collaboration"
urlpatterns = [
    path("feed/live/", views.live_check, name="live"),
]
