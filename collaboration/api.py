"""REST API v1 for the feed: record feeds and My feed, posts (with attachments),
comments, likes, follows, notifications and approvals.

Thin on purpose: serializers check the shape of the input, and every change goes
through collaboration.services, which decide who may do what. Their errors are
answered in the shared error shape: ValidationError 400, PermissionDenied 403, and
FeedError (an approval already pending or already decided) 409.

Records are named `<app_label>.<model>:<id>` (`crm.customer:12`, `accounts.user:3`).
A record that has no feed, does not exist or that the user may not see is refused
with the same 400 on `target`: the API never tells which records exist behind
someone's back. An item, comment, follow, notification or approval that is not the
user's to see answers 404.
"""

import re
import string
from collections import defaultdict

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import FileResponse
from django.urls import NoReverseMatch, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, parsers, permissions, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts.authentication import TokenScopePermission
from core.api.filters import DjangoFilterBackend
from core.api.json_types import StrictJSONTypesMixin
from core.api.pagination import CursorPagination
from core.api.parsers import JSONParser

from . import registry, selectors, services
from .filters import ApprovalRequestFilterSet, NotificationFilterSet
from .models import ApprovalRequest, Attachment, Comment, FeedItem, Follow, Notification

MAX_ID = 2**63 - 1
RECORD_KEY = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*):([1-9][0-9]{0,18})$")
RECORD_KEY_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*:[1-9][0-9]{0,18}$"
NO_SUCH_RECORD = "No such record, or you may not see it."
ID_PATTERN = "[0-9]{1,18}"  # ids in URLs: anything longer cannot be an id (404, never an overflow)


# --- Access -------------------------------------------------------------------------


class RolePermission(permissions.BasePermission):
    """The feed is for people with a Concord role: reading needs the view's
    `read_permission`, writing its `write_permission` (every role holds both;
    collaboration.permissions). What each record allows is then the services' call."""

    message = "The feed is for people with a Concord role."

    def has_permission(self, request, view):
        name = "read_permission" if request.method in permissions.SAFE_METHODS else "write_permission"
        permission = getattr(view, name, None)
        return permission is None or request.user.has_perm(permission)


ACCESS = [permissions.IsAuthenticated, TokenScopePermission, RolePermission]


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record's state does not allow this now."
    default_code = "conflict"


class ServiceErrorsMixin:
    """A FeedError from the services (already pending, already decided) is a 409.
    Errors are JSON even where the client asked for a file's bytes."""

    def handle_exception(self, exc):
        if isinstance(exc, services.FeedError):
            exc = ConflictError(str(exc))
        if not isinstance(getattr(self.request, "accepted_renderer", None), renderers.JSONRenderer):
            self.request.accepted_renderer = renderers.JSONRenderer()
            self.request.accepted_media_type = renderers.JSONRenderer.media_type
        return super().handle_exception(exc)


CONFLICT = OpenApiResponse(description="Not possible in the current state (e.g. already decided); see `message`.")


# --- Shared fields ------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "string",
        "pattern": RECORD_KEY_PATTERN,
        "maxLength": 150,
        "example": "crm.customer:12",
        "description": "A record with a feed, as `<app_label>.<model>:<id>`, e.g. `crm.customer:12`.",
    }
)
class RecordField(serializers.CharField):
    """A record the requesting user may see, named `<app_label>.<model>:<id>`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 150)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # The text is checked as a string (type, length), then looked up.
        text = super().run_validation(data)
        return self.record(text)

    def record(self, text: str):
        match = RECORD_KEY.match(text)
        if match is None:
            raise serializers.ValidationError(
                "Name a record as `<app_label>.<model>:<id>` with a positive id, e.g. `crm.customer:12`."
            )
        label = f"{match.group(1)}.{match.group(2)}"
        object_id = int(match.group(3))
        if registry.record_type(label) is None:
            kinds = ", ".join(sorted(t.model._meta.label_lower for t in registry.record_types()))
            raise serializers.ValidationError(f"“{label}” records have no feed. Records with a feed: {kinds}.")
        request = self.context.get("request")
        record = registry.find_record(request.user, label, object_id) if object_id <= MAX_ID and request else None
        if record is None:
            raise serializers.ValidationError(NO_SUCH_RECORD)
        return record


def record_key(type_id: int, object_id: int) -> str:
    content_type = ContentType.objects.get_for_id(type_id)  # cached after the first
    return f"{content_type.app_label}.{content_type.model}"


def page_url(type_id: int, object_id: int) -> str:
    try:
        return registry.record_url(type_id, object_id)
    except NoReverseMatch:  # a model whose page is not there (yet)
        return ""


def record_ref(type_id: int, object_id: int, label: str) -> dict:
    return {
        "type": record_key(type_id, object_id),
        "id": object_id,
        "label": label,
        "url": page_url(type_id, object_id),
    }


class RecordRefSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="The record's kind, `<app_label>.<model>`, e.g. `crm.customer`.")
    id = serializers.IntegerField()
    label = serializers.CharField(help_text="The record's name when the item was published.")
    url = serializers.CharField(help_text="The record's page in the web app (a path); empty when it has none.")


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__", help_text="Full name, or the username when it is blank.")
    username = serializers.CharField(help_text="What to type after `@` to mention them.")


def person(user) -> dict | None:
    return None if user is None else {"id": user.pk, "name": str(user), "username": user.username}


# --- Feed items ---------------------------------------------------------------------


def event_text(item: FeedItem) -> str:
    """An event or change as a sentence ("Invoice INV-2026-000142 issued"; "Stage: Proposal → Won")."""
    if item.kind == FeedItem.Kind.CHANGE:
        changes = item.data.get("changes", []) if isinstance(item.data, dict) else []
        return "; ".join(
            f"{change.get('label', '')}: {change.get('old') or '—'} → {change.get('new') or '—'}"
            for change in changes
            if isinstance(change, dict)
        )
    if item.kind == FeedItem.Kind.EVENT:
        message = registry.event_message(item.verb)
        if message is None:
            return item.verb
        values = defaultdict(str, item.data if isinstance(item.data, dict) else {})
        try:
            return string.Formatter().vformat(message, (), values)
        except (ValueError, IndexError, KeyError, AttributeError):
            return item.verb
    return ""


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Where to download it (needs the same credentials).")

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "url"]
        extra_kwargs = {"size": {"help_text": "Bytes."}}

    def get_url(self, attachment) -> str:
        path = reverse("api:feeditem-attachment", args=[attachment.item_id, attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "item", "author", "body", "created_at"]
        read_only_fields = fields

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_author(self, comment):
        return person(comment.author)


class FeedItemSerializer(serializers.ModelSerializer):
    """A feed item as cards show it: its record, who did it, the text, the counts,
    whether I like it, its attachments and its latest comments."""

    target = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField(
        help_text="An event or change as a sentence; empty for posts (their text is `body`)."
    )
    data = serializers.DictField(
        read_only=True,
        help_text='An event\'s facts, e.g. `{"number": "INV-2026-000142"}`; a change\'s '
        '`{"changes": [{"field", "label", "old", "new", "type"}]}`.',
    )
    liked = serializers.BooleanField(read_only=True, help_text="Whether I like it.")
    attachments = AttachmentSerializer(many=True, read_only=True)
    mentions = serializers.SerializerMethodField()
    latest_comments = serializers.SerializerMethodField(
        help_text=f"Its latest {selectors.LATEST_COMMENTS} comments, oldest first; all of them at "
        "`/feed/{id}/comments/`."
    )

    class Meta:
        model = FeedItem
        fields = [
            "id",
            "kind",
            "verb",
            "target",
            "actor",
            "body",
            "text",
            "data",
            "created_at",
            "comment_count",
            "like_count",
            "liked",
            "attachments",
            "mentions",
            "latest_comments",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "verb": {"help_text": "What happened: `post`, `changed`, or an event such as `invoice.issued`."},
            "body": {"help_text": "A post's text, plain (not HTML): escape it when you show it."},
        }

    @extend_schema_field(RecordRefSerializer)
    def get_target(self, item):
        return record_ref(item.target_type_id, item.target_id, item.target_label)

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_actor(self, item):
        return person(item.actor)

    def get_text(self, item) -> str:
        return event_text(item)

    @extend_schema_field(PersonSerializer(many=True))
    def get_mentions(self, item):
        mentions = getattr(item, "all_mentions", None)
        if mentions is None:
            mentions = item.mentions.select_related("user")
        people = {mention.user_id: mention.user for mention in mentions}
        return [person(user) for user in people.values()]

    @extend_schema_field(CommentSerializer(many=True))
    def get_latest_comments(self, item):
        comments = getattr(item, "latest_comments", None)
        if comments is None:
            comments = item.comments.select_related("author").order_by("-id")[: selectors.LATEST_COMMENTS]
        return CommentSerializer(list(reversed(list(comments))), many=True, context=self.context).data


class FeedQuerySerializer(serializers.Serializer):
    """The feed list's query parameters."""

    target = RecordField(required=False, help_text="Read this record's feed, e.g. `crm.customer:12`.")
    followed = serializers.BooleanField(
        required=False,
        default=None,
        allow_null=True,
        help_text="`true`: My feed (items on what I follow and those mentioning me). Give this or `target`.",
    )
    kind = serializers.ChoiceField(choices=FeedItem.Kind.choices, required=False, help_text="Only items of this kind.")
    show = serializers.ChoiceField(
        choices=[("mentions", "Only items that mention me")],
        required=False,
        help_text="`mentions`: only items that mention me.",
    )

    def validate(self, attrs):
        target, followed = attrs.get("target"), attrs.get("followed")
        if (target is None) == (followed is not True):
            raise serializers.ValidationError(
                "Ask for one feed: a record's (`target=crm.customer:12`) or My feed (`followed=true`)."
            )
        return attrs


class PostSerializer(StrictJSONTypesMixin, serializers.Serializer):
    target = RecordField(help_text="The record to post on, e.g. `crm.customer:12`.")
    body = serializers.CharField(
        max_length=settings.FEED_TEXT_MAX_CHARS,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Plain text; `@username` mentions someone, web addresses become links. Must not be empty.",
    )


class PostUploadSerializer(PostSerializer):
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        max_length=settings.FEED_ATTACHMENTS_PER_POST,
        help_text=f"Up to {settings.FEED_ATTACHMENTS_PER_POST} files, each up to "
        f"{settings.FEED_ATTACHMENT_MAX_BYTES // 1_048_576} MB, of these types: "
        f"{', '.join(settings.FEED_ATTACHMENT_TYPES)}.",
    )


class CommentCreateSerializer(StrictJSONTypesMixin, serializers.Serializer):
    body = serializers.CharField(
        max_length=settings.FEED_TEXT_MAX_CHARS,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Plain text; `@username` mentions someone. Must not be empty.",
    )


class LikeSerializer(serializers.Serializer):
    liked = serializers.BooleanField()
    like_count = serializers.IntegerField()


class OctetStreamRenderer(renderers.BaseRenderer):
    """Lets a download be asked for with `Accept: application/octet-stream`; errors
    on that path are still the JSON error shape."""

    media_type = "application/octet-stream"
    format = "bin"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""  # downloads stream; errors are JSON (ServiceErrorsMixin)


class NewestFirst(CursorPagination):
    ordering = ("-id",)


class OldestFirst(CursorPagination):
    ordering = ("id",)


NOT_VISIBLE = OpenApiResponse(description="No such item, or you may not see its record.")


class CollaborationViewSet(ServiceErrorsMixin, viewsets.GenericViewSet):
    """What every feed resource shares: role permissions (RolePermission reads
    `read_permission` / `write_permission`), newest first by cursor, numeric ids, and
    the services' refusals as 400/403/409."""

    permission_classes = ACCESS
    read_permission = "collaboration.view_feeditem"
    write_permission = "collaboration.add_feeditem"
    pagination_class = NewestFirst
    filter_backends = []
    lookup_value_regex = ID_PATTERN


@extend_schema(tags=["feed"])
@extend_schema_view(
    list=extend_schema(
        summary="Read a record's feed or My feed",
        description="`?target=crm.customer:12`: the record's feed, with the items of the records below it "
        "(an invoice's events show on its customer). `?followed=true`: My feed. Newest first, a page at a "
        "time (follow `next`). Only items on records you may see are listed. A `target` that has no feed, "
        "does not exist or that you may not see is a 400 on `target`.",
        parameters=[FeedQuerySerializer],
    ),
    retrieve=extend_schema(summary="Get a feed item", responses={200: FeedItemSerializer, 404: NOT_VISIBLE}),
)
class FeedItemViewSet(CollaborationViewSet):
    """Feed items: posts, comments, likes and attachments."""

    queryset = FeedItem.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = FeedItemSerializer

    def get_queryset(self):
        items = selectors.items_visible_to(self.request.user, FeedItem.objects.all())
        return selectors.with_details(items, self.request.user)

    def list(self, request):
        empty = [name for name in FeedQuerySerializer().fields if request.query_params.get(name) == ""]
        if empty:
            raise exceptions.ValidationError({name: ["Enter a value, or leave the parameter out."] for name in empty})
        query = FeedQuerySerializer(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        kind, mentions = params.get("kind"), params.get("show") == "mentions"
        feed_filter = selectors.FeedFilter.MENTIONS if mentions else ""
        if kind == FeedItem.Kind.POST and not mentions:
            feed_filter = selectors.FeedFilter.POSTS  # served by the inbox's (user, kind) index
        if params.get("target") is not None:
            items = selectors.record_feed(request.user, params["target"], feed_filter=feed_filter)
        else:
            items = selectors.my_feed(request.user, feed_filter=feed_filter)
        if kind:
            items = items.filter(kind=kind)
        page = self.paginate_queryset(items)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def _item(self) -> FeedItem:
        """The item of the URL if the user may see it (404 otherwise), without its details."""
        return get_object_or_404(
            selectors.items_visible_to(self.request.user, FeedItem.objects.all()), pk=self.kwargs["pk"]
        )

    def _read_back(self, item_id: int, status_code=status.HTTP_200_OK) -> Response:
        item = self.get_queryset().get(pk=item_id)
        return Response(FeedItemSerializer(item, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(
        summary="Post on a record's feed",
        description="`multipart/form-data` with `target`, `body` and up to "
        f"{settings.FEED_ATTACHMENTS_PER_POST} `files`. A post without files may also be sent as JSON "
        '`{"target": …, "body": …}` (the schema names one body type per operation, which is what '
        "generated clients handle). The people `@mentioned` (who may see the record) are notified; you and "
        "they follow the record. An empty body, too many files, or a file too big or of a type not allowed "
        "is a 400 and nothing is posted.",
        request={"multipart/form-data": PostUploadSerializer},
        responses={201: FeedItemSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="posts",
        parser_classes=[JSONParser, parsers.MultiPartParser],
    )
    def posts(self, request):
        serializer = PostUploadSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        item = services.post(target=data["target"], by=request.user, body=data["body"], files=data.get("files", []))
        return self._read_back(item.pk, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="List an item's comments",
        description="Oldest first, a page at a time.",
        responses={200: CommentSerializer(many=True), 404: NOT_VISIBLE},
    )
    @extend_schema(
        methods=["POST"],
        summary="Comment on an item",
        description="The people `@mentioned` are notified. An empty comment is a 400; an item you may not "
        "see is a 404.",
        request=CommentCreateSerializer,
        responses={201: CommentSerializer, 404: NOT_VISIBLE},
    )
    @action(detail=True, methods=["get", "post"], serializer_class=CommentSerializer, pagination_class=OldestFirst)
    def comments(self, request, pk=None):
        item = self._item()
        if request.method == "POST":
            serializer = CommentCreateSerializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            comment = services.comment(item=item, by=request.user, body=serializer.validated_data["body"])
            comment = Comment.objects.select_related("author").get(pk=comment.pk)
            return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(selectors.all_comments(item))
        return self.get_paginated_response(CommentSerializer(page, many=True).data)

    @extend_schema(
        methods=["POST"],
        summary="Like an item",
        description="Liking twice changes nothing.",
        request=None,
        responses={200: LikeSerializer, 404: NOT_VISIBLE},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Stop liking an item",
        description="Answers the item's like count; changes nothing if you did not like it.",
        request=None,
        responses={200: LikeSerializer, 404: NOT_VISIBLE},
    )
    @action(detail=True, methods=["post", "delete"], serializer_class=LikeSerializer)
    def like(self, request, pk=None):
        item = self._item()
        if request.method == "POST":
            services.like(item=item, by=request.user)
        else:
            services.unlike(item=item, by=request.user)
        item.refresh_from_db(fields=["like_count"])
        liked = item.reactions.filter(user=request.user).exists()
        return Response({"liked": liked, "like_count": item.like_count})

    @extend_schema(
        summary="Download an attachment",
        description="The file as uploaded, as a download (`Content-Disposition: attachment`).",
        parameters=[
            OpenApiParameter(
                "attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The attachment's id."
            )
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            404: OpenApiResponse(description="No such attachment on this item, or you may not see its record."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=rf"attachments/(?P<attachment_id>{ID_PATTERN})",
        renderer_classes=[renderers.JSONRenderer, OctetStreamRenderer],
        pagination_class=None,
    )
    def attachment(self, request, pk=None, attachment_id=None):
        item = self._item()
        attachment = Attachment.objects.filter(item=item, pk=attachment_id).first()
        if attachment is None:
            raise exceptions.NotFound("No such attachment on this item.")
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, OSError):
            raise exceptions.NotFound("The attachment's file is no longer stored.") from None
        # Served as bytes to save, never to show: the type a client declared is not trusted.
        return FileResponse(
            handle, as_attachment=True, filename=attachment.name, content_type="application/octet-stream"
        )


# --- Follows ------------------------------------------------------------------------


def labels_of(follows) -> dict[tuple[int, int], str]:
    """The names of the followed records: one query per kind of record."""
    by_type = defaultdict(set)
    for follow in follows:
        by_type[follow.target_type_id].add(follow.target_id)
    labels = {}
    for type_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None:
            continue
        for pk, record in model._default_manager.in_bulk(list(ids)).items():
            labels[(type_id, pk)] = str(record)[:200]
    return labels


class FollowSerializer(serializers.ModelSerializer):
    target = serializers.SerializerMethodField()

    class Meta:
        model = Follow
        fields = ["id", "target", "created_at"]
        read_only_fields = fields

    @extend_schema_field(RecordRefSerializer)
    def get_target(self, follow):
        labels = self.context.get("labels") or labels_of([follow])
        key = (follow.target_type_id, follow.target_id)
        return record_ref(*key, labels.get(key, ""))


class FollowCreateSerializer(StrictJSONTypesMixin, serializers.Serializer):
    target = RecordField(help_text="The record (or person, `accounts.user:<id>`) to follow.")


@extend_schema(tags=["follows"])
@extend_schema_view(
    list=extend_schema(summary="List what I follow", description="Newest first."),
    create=extend_schema(
        summary="Follow a record or a person",
        description="What is published on it reaches My feed (its latest items at once). Following again "
        "changes nothing and answers 200.",
        request=FollowCreateSerializer,
        responses={201: FollowSerializer, 200: FollowSerializer},
    ),
    destroy=extend_schema(
        summary="Stop following",
        description="Its items leave My feed, except those that mention me or show on something else I follow.",
        responses={204: None, 404: OpenApiResponse(description="Not one of your follows.")},
    ),
)
class FollowViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, CollaborationViewSet):
    """What I follow: records and people."""

    queryset = Follow.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = FollowSerializer

    def get_queryset(self):
        return Follow.objects.filter(user=self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        context = {**self.get_serializer_context(), "labels": labels_of(page)}
        return self.get_paginated_response(FollowSerializer(page, many=True, context=context).data)

    def create(self, request):
        serializer = FollowCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        target = serializer.validated_data["target"]
        created = services.follow_checked(by=request.user, target=target)
        type_id = registry.content_type_of(target).pk
        follow = Follow.objects.get(user=request.user, target_type_id=type_id, target_id=target.pk)
        context = {**self.get_serializer_context(), "labels": {(type_id, target.pk): str(target)[:200]}}
        return Response(
            FollowSerializer(follow, context=context).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def perform_destroy(self, follow):
        target = follow.target
        if target is None:  # the record is gone: nothing left to follow
            follow.delete()
            return
        services.unfollow(self.request.user, target)


# --- Notifications ------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "url", "actor", "item", "approval", "created_at", "read_at", "is_read"]
        read_only_fields = fields
        extra_kwargs = {
            "url": {"help_text": "Where to look in the web app (a path)."},
            "item": {"help_text": "The feed item it is about, if any."},
            "approval": {"help_text": "The approval request it is about, if any."},
        }

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_actor(self, notification):
        return person(notification.actor)


MARKED = inline_serializer("MarkedRead", {"marked": serializers.IntegerField(help_text="How many were unread.")})


@extend_schema(tags=["notifications"])
@extend_schema_view(
    list=extend_schema(summary="List my notifications", description="Newest first; `?unread=true` for the unread."),
    retrieve=extend_schema(summary="Get one of my notifications"),
)
class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """What I was told: mentions, approvals to decide, decisions on my requests. Only mine."""

    queryset = Notification.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = NotificationSerializer
    permission_classes = ACCESS
    pagination_class = NewestFirst
    filter_backends = [DjangoFilterBackend]
    filterset_class = NotificationFilterSet
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user).select_related("actor")

    @extend_schema(summary="Mark a notification read", request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        services.mark_read(user=request.user, notification_ids=[notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(summary="Mark all my notifications read", request=None, responses={200: MARKED})
    @action(detail=False, methods=["post"], url_path="read-all", filter_backends=[], pagination_class=None)
    def read_all(self, request):
        return Response({"marked": services.mark_all_read(user=request.user)})


# --- Approvals ----------------------------------------------------------------------


class ApprovalRequestSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(read_only=True, help_text="What is asked, for people.")
    target = serializers.SerializerMethodField()
    requested_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    may_decide = serializers.SerializerMethodField(help_text="Whether I may approve or reject it now.")

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "kind",
            "kind_label",
            "target",
            "requested_by",
            "reason",
            "status",
            "decided_by",
            "decided_at",
            "decision_comment",
            "created_at",
            "may_decide",
        ]
        read_only_fields = fields

    @extend_schema_field(RecordRefSerializer)
    def get_target(self, approval):
        return record_ref(approval.target_type_id, approval.target_id, approval.target_label)

    @extend_schema_field(PersonSerializer)
    def get_requested_by(self, approval):
        return person(approval.requested_by)

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_decided_by(self, approval):
        return person(approval.decided_by)

    def get_may_decide(self, approval) -> bool:
        # From the kinds the user approves, worked out once per response: no query per row.
        kinds = self.context.get("kinds_to_decide")
        if kinds is None:
            user = self.context["request"].user
            kinds = self.context["kinds_to_decide"] = {k.key for k in registry.approval_kinds() if k.may_approve(user)}
        user_id = self.context["request"].user.pk
        return approval.is_pending and approval.kind in kinds and approval.requested_by_id != user_id


class ApprovalCreateSerializer(StrictJSONTypesMixin, serializers.Serializer):
    target = RecordField(help_text="The record the decision is about, e.g. `crm.customer:12`.")
    kind = serializers.CharField(max_length=64, help_text="One of the approval kinds the record's app registers.")
    reason = serializers.CharField(
        max_length=settings.FEED_TEXT_MAX_CHARS, required=False, allow_blank=True, help_text="Why you ask."
    )


class DecisionSerializer(StrictJSONTypesMixin, serializers.Serializer):
    comment = serializers.CharField(
        max_length=settings.FEED_TEXT_MAX_CHARS,
        required=False,
        allow_blank=True,
        help_text="Why; required to reject, so the requester knows what to change.",
    )


DECISION_RESPONSES = {
    200: ApprovalRequestSerializer,
    403: OpenApiResponse(description="Your own request, or one you may not decide."),
    404: OpenApiResponse(description="No such request, or you may not see it."),
    409: OpenApiResponse(description="The request was already decided."),
}


@extend_schema(tags=["approvals"])
@extend_schema_view(
    list=extend_schema(
        summary="List approval requests",
        description="Requests on records you may see, and your own; newest first. "
        "`?status=pending&to_decide=true` is your task list, `?mine=true` what you asked for.",
    ),
    retrieve=extend_schema(summary="Get an approval request"),
    create=extend_schema(
        summary="Ask for an approval",
        description="The approvers of the kind are notified. An unknown kind (or one this record does not "
        "offer) is a 400; asking while the same request is pending is a 409.",
        request=ApprovalCreateSerializer,
        responses={201: ApprovalRequestSerializer, 409: CONFLICT},
    ),
)
class ApprovalRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, CollaborationViewSet
):
    """Approval requests: ask, list, approve, reject. Decided by the approvers the
    kind names, never by whoever asked; the decision goes on the record's feed."""

    queryset = ApprovalRequest.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = ApprovalRequestSerializer
    read_permission = "collaboration.view_approvalrequest"
    write_permission = "collaboration.add_approvalrequest"
    filter_backends = [DjangoFilterBackend]
    filterset_class = ApprovalRequestFilterSet

    def get_queryset(self):
        user = self.request.user
        visible = selectors.visibility_condition(user) | Q(requested_by_id=user.pk)
        return ApprovalRequest.objects.filter(visible).select_related("requested_by", "decided_by")

    def create(self, request):
        serializer = ApprovalCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        approval = services.request_approval(
            target=data["target"], kind=data["kind"], by=request.user, reason=data.get("reason", "")
        )
        return self._read_back(approval.pk, status.HTTP_201_CREATED)

    def _read_back(self, approval_id: int, status_code=status.HTTP_200_OK) -> Response:
        approval = self.get_queryset().get(pk=approval_id)
        return Response(self.get_serializer(approval).data, status=status_code)

    def _decide(self, request, *, approve: bool) -> Response:
        approval = self.get_object()
        serializer = DecisionSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.decide_approval(
            approval=approval, by=request.user, approve=approve, comment=serializer.validated_data.get("comment", "")
        )
        return self._read_back(approval.pk)

    @extend_schema(
        summary="Approve a request",
        description="The decision goes on the record's feed and the requester is told.",
        request=DecisionSerializer,
        responses=DECISION_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def approve(self, request, pk=None):
        return self._decide(request, approve=True)

    @extend_schema(
        summary="Reject a request",
        description="Say why in `comment` (required): the requester is told.",
        request=DecisionSerializer,
        responses=DECISION_RESPONSES,
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reject(self, request, pk=None):
        return self._decide(request, approve=False)
