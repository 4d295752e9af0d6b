from django.urls import path

from .views import approvals, feed, notifications

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
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/count/", notifications.notification_count, name="notification_count"),
    path("notifications/menu/", notifications.notification_menu, name="notification_menu"),
    path("notifications/read-all/", notifications.notification_mark_all_read, name="notifications_read_all"),
    path("notifications/<int:pk>/open/", notifications.notification_open, name="notification_open"),
    path("notifications/<int:pk>/read/", notifications.notification_mark_read, name="notification_read"),
    # --- approvals (views/approvals.py) ---
    path("approvals/", approvals.approval_list, name="approvals"),
    path("approvals/request/", approvals.approval_request, name="approval_request"),
    path("approvals/<int:pk>/decide/", approvals.approval_decide, name="approval_decide"),
]
