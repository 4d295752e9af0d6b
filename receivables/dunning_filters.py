"""The dunning records' filters (runs, notices, holds, disputes, promises, collection
tasks): the API reads them, and the dunning pages may read the same ones."""

import django_filters
from django import forms

from core.api.filters import BooleanFilter, IdFilter

from .models import CollectionTask, Dispute, DunningHold, DunningNotice, DunningRun, PaymentPromise

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DunningRunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DunningRun.Status.choices, empty_label="All statuses")
    as_of_from = django_filters.DateFilter(field_name="as_of", lookup_expr="gte", label="As of from", widget=_DATE)
    as_of_to = django_filters.DateFilter(field_name="as_of", lookup_expr="lte", label="As of to", widget=_DATE)

    class Meta:
        model = DunningRun
        fields = ["status", "as_of_from", "as_of_to"]


class DunningNoticeFilterSet(django_filters.FilterSet):
    run = IdFilter(field_name="run_id", label="Run")
    customer = IdFilter(field_name="customer_id", label="Customer")
    status = django_filters.ChoiceFilter(choices=DunningNotice.Status.choices, empty_label="All statuses")
    channel = django_filters.ChoiceFilter(
        choices=DunningNotice._meta.get_field("channel").choices, empty_label="All channels"
    )

    class Meta:
        model = DunningNotice
        fields = ["run", "customer", "status", "channel"]


class DunningHoldFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label="Customer")
    invoice = IdFilter(field_name="invoice_id", label="Invoice")
    released = BooleanFilter(
        field_name="released_at",
        lookup_expr="isnull",
        exclude=True,
        label="Released",
        help_text="Released (true) or not",
    )

    class Meta:
        model = DunningHold
        fields = ["customer", "invoice", "released"]


class DisputeFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="invoice__customer_id", label="Customer")
    owner = IdFilter(
        field_name="invoice__customer__owner_id",
        label="Customer owner",
        help_text="The customer's owner (a user id): the disputes of that owner's customers only.",
    )
    invoice = IdFilter(field_name="invoice_id", label="Invoice")
    status = django_filters.ChoiceFilter(choices=Dispute.Status.choices, empty_label="All statuses")

    class Meta:
        model = Dispute
        fields = ["customer", "owner", "invoice", "status"]


class PaymentPromiseFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label="Customer")
    invoice = IdFilter(field_name="invoice_id", label="Invoice")
    status = django_filters.ChoiceFilter(choices=PaymentPromise.Status.choices, empty_label="All statuses")

    class Meta:
        model = PaymentPromise
        fields = ["customer", "invoice", "status"]


class CollectionTaskFilterSet(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label="Customer")
    status = django_filters.ChoiceFilter(choices=CollectionTask.Status.choices, empty_label="All statuses")
    mine = BooleanFilter(method="filter_mine", label="Mine", help_text="Only the calls asked of me (true)")

    class Meta:
        model = CollectionTask
        fields = ["customer", "status", "mine"]

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        user = getattr(self.request, "user", None)
        return queryset.filter(owner=user) if value else queryset.exclude(owner=user)
