from django.urls import path

from .views import feed

app_name = "collaboration"
urlpatterns = [
    # --- feed (views/feed.py) ---
    path("feed/live/", feed.live_check, name="live"),
    # --- notifications (views/notifications.py) ---
    # --- approvals (views/approvals.py) ---
]
