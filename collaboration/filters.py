"""Filters of the collaboration lists (API): notifications and approval requests.
A filter given no value filters nothing."""

import django_filters
from django.db.models import Q

from core.api.filters import BooleanFilter

from .models import ApprovalRequest, Notification
from .registry import approval_kinds


class NotificationFilterSet(django_filters.FilterSet):
    unread = BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label="true: only unread notifications; false: only read ones."
    )

    class Meta:
        model = Notification
        fields = ["unread"]


def to_decide_condition(user) -> Q:
    """Pending requests `user` may decide: of a kind they approve, asked by someone else
    (the list shows only requests on records they may see)."""
    kinds = [kind.key for kind in approval_kinds() if kind.may_approve(user)]
    return Q(status=ApprovalRequest.Status.PENDING, kind__in=kinds) & ~Q(requested_by_id=user.pk)


class ApprovalRequestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ApprovalRequest.Status.choices)
    mine = BooleanFilter(method="filter_mine", label="true: only the requests I asked for; false: only others'.")
    to_decide = BooleanFilter(
        method="filter_to_decide",
        label="true: only pending requests I may decide (my task list); false: all the others.",
    )

    class Meta:
        model = ApprovalRequest
        fields = ["status", "mine", "to_decide"]

    def filter_mine(self, queryset, name, value):
        condition = Q(requested_by_id=self.request.user.pk)
        return queryset.filter(condition if value else ~condition)

    def filter_to_decide(self, queryset, name, value):
        condition = to_decide_condition(self.request.user)
        return queryset.filter(condition if value else ~condition)
