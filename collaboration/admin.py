"""The admin is a page like any other: it reads the feed, and changes it only through
collaboration.services. Feed items, notifications and follows are shown read-only
(they are written by publishing, posting and following, which keep the placements,
inboxes and counters in step); an approval is decided by an action that calls
services.decide_approval, never by editing its status."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from . import services
from .models import ApprovalRequest, FeedItem, Follow, Notification


class ReadOnlyAdmin(admin.ModelAdmin):
    """Listed and opened, never added or changed here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FeedItem)
class FeedItemAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "verb", "target_label", "actor", "comment_count", "like_count")
    list_filter = ("kind", "verb")
    list_select_related = ("actor",)
    search_fields = ("body",)
    # Counting a million items for the paginator would cost more than the page.
    show_full_result_count = False
    fields = (
        "kind",
        "verb",
        "target_type",
        "target_id",
        "target_label",
        "actor",
        "body",
        "data",
        "created_at",
        "comment_count",
        "like_count",
    )

    def has_delete_permission(self, request, obj=None):
        # Removing an item (a post that should never have been written) is for admins
        # only; its placements, inbox entries, comments and likes go with it (cascade).
        return request.user.is_active and request.user.is_superuser

    def get_deleted_objects(self, objs, request):
        # The item's notifications go with it, though nobody deletes one on its own here
        # (their admin is read-only): the admin's own check would refuse the whole delete.
        deleted, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, set(), protected


def _decide(modeladmin, request, queryset, *, approve: bool):
    decided = 0
    for approval in queryset:
        try:
            services.decide_approval(
                approval=approval, by=request.user, approve=approve, comment="Decided in the admin."
            )
        except (services.ApprovalError, PermissionDenied) as error:
            modeladmin.message_user(request, f"{approval}: {error}", messages.ERROR)
        except ValidationError as error:
            modeladmin.message_user(request, f"{approval}: {' '.join(error.messages)}", messages.ERROR)
        else:
            decided += 1
    if decided:
        verb = "approved" if approve else "rejected"
        modeladmin.message_user(request, f"{decided} request{'s' if decided != 1 else ''} {verb}.", messages.SUCCESS)


@admin.action(description="Approve the selected requests")
def approve_requests(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, approve=True)


@admin.action(description="Reject the selected requests")
def reject_requests(modeladmin, request, queryset):
    _decide(modeladmin, request, queryset, approve=False)


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind_label", "target_label", "requested_by", "status", "decided_by")
    list_filter = ("status", "kind")
    list_select_related = ("requested_by", "decided_by")
    search_fields = ("target_label", "reason")
    actions = [approve_requests, reject_requests]
    fields = (
        "kind",
        "target_type",
        "target_id",
        "target_label",
        "requested_by",
        "reason",
        "status",
        "decided_by",
        "decided_at",
        "decision_comment",
        "created_at",
    )

    @admin.display(description="Kind")
    def kind_label(self, obj):
        return obj.kind_label

    def has_change_permission(self, request, obj=None):
        # The change list needs it to offer the actions; the form stays read-only
        # (get_readonly_fields) and saving is refused (save_model).
        return super(ReadOnlyAdmin, self).has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        raise PermissionDenied("Decide a request with the Approve or Reject action.")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "user", "kind", "text", "read_at", "emailed_at")
    list_filter = ("kind",)
    list_select_related = ("user",)
    search_fields = ("text", "user__username")
    fields = ("user", "kind", "actor", "item", "approval", "text", "url", "created_at", "read_at", "emailed_at")


@admin.register(Follow)
class FollowAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "target_type", "target_id", "created_at")
    list_filter = ("target_type",)
    list_select_related = ("user", "target_type")
    search_fields = ("user__username",)
    fields = ("user", "target_type", "target_id", "created_at")
