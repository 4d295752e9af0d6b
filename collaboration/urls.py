from django.urls import path

from .views import feed

app_name = "collaboration"
urlpatterns = [
    # --- feed (views/feed.py) ---
    path("feed/", feed.my_feed, name="my_feed"),
    path("feed/people/<int:pk>/", feed.person_feed, name="person_feed"),
    path("feed/live/", feed.live_check, name="live"),
    path("feed/items/", feed.feed_items, name="feed_items"),
    path("feed/post/", feed.create_post, name="post"),
    path("feed/follow/", feed.follow_record, name="follow"),
    path("feed/mentions/", feed.mention_suggestions, name="mention_suggestions"),
    path("feed/items/<int:pk>/comments/", feed.item_comments, name="comments"),
    path("feed/items/<int:pk>/like/", feed.item_like, name="like"),
    path("feed/attachments/<int:pk>/", feed.download_attachment, name="attachment"),
    # --- notifications (views/notifications.py) ---
    # --- approvals (views/approvals.py) ---
]
