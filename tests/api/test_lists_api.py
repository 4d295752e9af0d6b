"""Lists: the pages' FilterSets, ordering, cursor pages that never repeat a row,
`?updated_since=` for sync, and a query count that does not grow with the page."""

import base64
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode, urlsplit

import django_filters
import pytest
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.viewsets import GenericViewSet

from core.api.filters import DjangoFilterBackend
from core.api.pagination import CursorPagination, InvalidCursor
from crm.models import Customer
from tests.factories import ContactFactory, CustomerFactory

from .helpers import contact_url, customer_url, error_of

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def walk(client, url, params) -> list[int]:
    """Every id of every page, following the `next` links."""
    seen, response = [], client.get(url, params)
    while True:
        seen += ids(response)
        next_url = response.json()["next"]
        if not next_url:
            return seen
        parts = urlsplit(next_url)
        response = client.get(f"{parts.path}?{parts.query}")


INVALID_CURSOR = {"code": "invalid_cursor", "message": "Invalid cursor."}


def cursor_of(querystring: str) -> str:
    """A hand-made cursor: DRF's cursors are base64 of a query string (o=, r=, p=)."""
    return base64.b64encode(querystring.encode()).decode()


def touch(obj, when):
    type(obj).objects.filter(pk=obj.pk).update(updated_at=when)


class TestCustomerFilters:
    def test_q_searches_name_legal_name_email_and_tax_id(self, as_actor):
        acme = CustomerFactory(name="Acme", legal_name="Acme Industries GmbH", email="ap@acme.example", tax_id="DE111")
        CustomerFactory(name="Globex", legal_name="Globex Corp", email="ap@globex.example", tax_id="DE222")
        client = as_actor("rep")

        for term in ("acme", "industries", "ap@acme", "de 111"):
            assert ids(client.get(customer_url(), {"q": term})) == [acme.pk], term

    def test_owner_status_and_currency(self, as_actor, rep, other_rep):
        mine = CustomerFactory(owner=rep, status="active", currency="EUR")
        CustomerFactory(owner=other_rep, status="active", currency="EUR")
        prospect = CustomerFactory(owner=rep, status="prospect", currency="USD")
        client = as_actor("rep")

        assert set(ids(client.get(customer_url(), {"owner": rep.pk}))) == {mine.pk, prospect.pk}
        assert ids(client.get(customer_url(), {"owner": rep.pk, "status": "prospect"})) == [prospect.pk]
        assert ids(client.get(customer_url(), {"currency": "USD"})) == [prospect.pk]

    def test_updated_since_returns_what_changed_from_then_on(self, as_actor):
        now = timezone.now()
        old, recent = CustomerFactory(), CustomerFactory()
        touch(old, now - timedelta(days=10))
        touch(recent, now - timedelta(hours=1))

        response = as_actor("rep").get(customer_url(), {"updated_since": (now - timedelta(days=1)).isoformat()})

        assert ids(response) == [recent.pk]

    def test_updated_since_accepts_a_utc_z_timestamp(self, as_actor):
        CustomerFactory()
        assert len(ids(as_actor("rep").get(customer_url(), {"updated_since": "2000-01-01T00:00:00Z"}))) == 1

    @pytest.mark.parametrize(
        ("param", "value"),
        [
            ("updated_since", "garbage"),
            ("updated_since", "2026-13-45"),
            ("owner", "abc"),
            ("owner", "999999"),
            ("status", "nope"),
            # Empty values: the API's schema has no empty date, id or status (the list
            # pages' filter form sends them, and keeps reading them as "any").
            ("updated_since", ""),
            ("owner", ""),
            ("status", ""),
        ],
    )
    def test_an_invalid_filter_value_is_a_400_on_its_parameter(self, as_actor, param, value):
        response = as_actor("rep").get(customer_url(), {param: value})

        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "validation_error"
        assert list(error["fields"]) == [param]

    @pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
    def test_an_updated_since_that_leaves_the_calendar_in_utc_is_a_400(self, as_actor, value):
        response = as_actor("rep").get(customer_url(), {"updated_since": value})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["updated_since"]

    def test_updated_since_takes_any_offset_python_reads(self, as_actor):
        # PostgreSQL itself refuses offsets beyond ±15:59; the filter hands it UTC.
        CustomerFactory()
        assert len(ids(as_actor("rep").get(customer_url(), {"updated_since": "2000-01-01T00:00:00-16:00"}))) == 1

    def test_the_owner_filter_takes_only_sales_people(self, as_actor, clerk):
        response = as_actor("rep").get(customer_url(), {"owner": clerk.pk})
        assert response.status_code == 400


def test_an_empty_text_filter_is_no_filter(as_actor):
    CustomerFactory()
    assert len(ids(as_actor("rep").get(customer_url(), {"q": "", "currency": ""}))) == 1


def api_filtersets():
    """The FilterSet of every API viewset that filters with core.api.filters.DjangoFilterBackend."""
    get_resolver().url_patterns  # imports every app's API
    found, todo = [], list(GenericViewSet.__subclasses__())
    while todo:
        viewset = todo.pop()
        todo += viewset.__subclasses__()
        if DjangoFilterBackend in getattr(viewset, "filter_backends", ()) and getattr(viewset, "filterset_class", None):
            found.append(viewset.filterset_class)
    return sorted(set(found), key=lambda cls: cls.__name__)


class TestNoFilterParameters:
    """A request naming no filter is answered without building the FilterSet
    (core.api.filters.DjangoFilterBackend): that must be what the FilterSet does."""

    @pytest.mark.parametrize("filterset_class", api_filtersets(), ids=lambda cls: cls.__name__)
    def test_every_api_filterset_given_no_parameters_leaves_the_rows_as_they_are(self, filterset_class, rep):
        queryset = filterset_class._meta.model.objects.order_by("pk")
        request = Request(APIRequestFactory().get("/api/v1/things/", {"page_size": "5", "ordering": "-id"}))
        request.user = rep
        filterset = filterset_class(data=request.query_params, queryset=queryset, request=request)
        assert filterset.is_valid(), filterset.errors
        assert str(filterset.qs.query) == str(queryset.query)

    def test_a_filterset_that_filters_by_default_is_still_built(self, rep):
        class OnlyActiveByDefault(django_filters.FilterSet):
            status = django_filters.ChoiceFilter(choices=Customer.Status.choices)

            class Meta:
                model = Customer
                fields = ["status"]

            def filter_queryset(self, queryset):
                return super().filter_queryset(queryset).filter(status=Customer.Status.ACTIVE)

        class StatusRequired(OnlyActiveByDefault):
            status = django_filters.ChoiceFilter(choices=Customer.Status.choices, required=True)

            def filter_queryset(self, queryset):
                return django_filters.FilterSet.filter_queryset(self, queryset)

        CustomerFactory(status=Customer.Status.ACTIVE)
        CustomerFactory(status=Customer.Status.INACTIVE)
        request = Request(APIRequestFactory().get("/api/v1/customers/"))
        backend, queryset = DjangoFilterBackend(), Customer.objects.all()

        view = type("View", (), {"filterset_class": OnlyActiveByDefault})()
        assert [c.status for c in backend.filter_queryset(request, queryset, view)] == ["active"]
        view = type("View", (), {"filterset_class": StatusRequired})()
        with pytest.raises(ValidationError):
            backend.filter_queryset(request, queryset, view)


class TestContactFilters:
    def test_customer_q_primary_and_updated_since(self, as_actor, customer, others_customer):
        jane = ContactFactory(customer=customer, name="Jane Doe", job_title="CFO", is_primary=True)
        john = ContactFactory(customer=customer, name="John Roe", job_title="Buyer")
        other = ContactFactory(customer=others_customer, name="Olga Other", job_title="CFO")
        touch(other, timezone.now() - timedelta(days=30))
        client = as_actor("rep")

        assert set(ids(client.get(contact_url(), {"customer": customer.pk}))) == {jane.pk, john.pk}
        assert set(ids(client.get(contact_url(), {"q": "cfo"}))) == {jane.pk, other.pk}
        assert ids(client.get(contact_url(), {"customer": customer.pk, "is_primary": "true"})) == [jane.pk]
        since = (timezone.now() - timedelta(days=1)).isoformat()
        assert set(ids(client.get(contact_url(), {"updated_since": since}))) == {jane.pk, john.pk}

    @pytest.mark.parametrize(
        ("param", "value"),
        [
            ("customer", "abc"),
            ("customer", "99999999999999999999"),
            ("customer", "1e30"),
            ("updated_since", "yesterday"),
            # django-filter reads anything but true/false as "no filter"; a client that
            # sends is_primary=0.98 or =yes must not get every contact back.
            ("is_primary", "0.98"),
            ("is_primary", "yes"),
            ("is_primary", "unknown"),
            ("is_primary", ""),
            ("customer", ""),
        ],
    )
    def test_an_invalid_filter_value_is_a_400(self, as_actor, param, value):
        response = as_actor("rep").get(contact_url(), {param: value})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == [param]


class TestOrdering:
    def test_newest_changes_come_first_by_default(self, as_actor):
        now = timezone.now()
        a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
        for customer, age in ((a, 3), (b, 1), (c, 2)):
            touch(customer, now - timedelta(hours=age))

        assert ids(as_actor("rep").get(customer_url())) == [b.pk, c.pk, a.pk]

    def test_by_name_both_ways(self, as_actor):
        for name in ("Beta", "Alpha", "Gamma"):
            CustomerFactory(name=name)
        client = as_actor("rep")

        names = [r["name"] for r in client.get(customer_url(), {"ordering": "name"}).json()["results"]]
        assert names == ["Alpha", "Beta", "Gamma"]
        names = [r["name"] for r in client.get(customer_url(), {"ordering": "-name"}).json()["results"]]
        assert names == ["Gamma", "Beta", "Alpha"]

    def test_by_credit_limit_puts_customers_without_one_above_any_limit(self, as_actor):
        """No credit limit means no limit: above every limit, as on the list page."""
        small = CustomerFactory(credit_limit=Decimal("500.00"))
        none = CustomerFactory(credit_limit=None)
        zero = CustomerFactory(credit_limit=Decimal("0.00"))
        large = CustomerFactory(credit_limit=Decimal("90000.00"))
        client = as_actor("rep")

        assert ids(client.get(customer_url(), {"ordering": "credit_limit"})) == [zero.pk, small.pk, large.pk, none.pk]
        assert ids(client.get(customer_url(), {"ordering": "-credit_limit"})) == [none.pk, large.pk, small.pk, zero.pk]

    @pytest.mark.parametrize("ordering", ["tax_id", "name,owner__password", "-", "name,", "?", "credit_limit_sort"])
    def test_an_unknown_ordering_field_is_a_400_naming_the_allowed_ones(self, as_actor, ordering):
        CustomerFactory()
        response = as_actor("rep").get(customer_url(), {"ordering": ordering})

        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "validation_error"
        [message] = error["fields"]["ordering"]
        assert message.endswith(
            "Allowed: name, created_at, updated_at, credit_limit, each optionally prefixed with `-` to reverse it."
        )

    def test_an_empty_ordering_is_a_400_too(self, as_actor):
        # The schema's items are an enum; leave the parameter out for the default order.
        response = as_actor("rep").get(customer_url(), {"ordering": ""})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["ordering"]

    def test_contacts_by_name(self, as_actor, customer):
        for name in ("Bea", "Al", "Cy"):
            ContactFactory(customer=customer, name=name)
        results = as_actor("rep").get(contact_url(), {"ordering": "name"}).json()["results"]
        assert [r["name"] for r in results] == ["Al", "Bea", "Cy"]


class TestCursorPagination:
    @pytest.mark.parametrize(
        "ordering", [None, "name", "-name", "credit_limit", "-credit_limit", "created_at", "-updated_at"]
    )
    def test_pages_cover_every_customer_once_in_order(self, as_actor, ordering):
        # Equal names, limits and timestamps: ties must not repeat or drop rows at page edges.
        customers = [
            CustomerFactory(name=f"Same Name {i // 3}", credit_limit=None if i % 4 == 0 else Decimal(i // 2 * 100))
            for i in range(11)
        ]
        same_moment = timezone.now() - timedelta(hours=1)
        Customer.objects.update(updated_at=same_moment)
        params = {"page_size": 3, **({"ordering": ordering} if ordering else {})}
        client = as_actor("rep")

        seen = walk(client, customer_url(), params)

        assert sorted(seen) == sorted(c.pk for c in customers)
        assert len(seen) == len(set(seen))
        assert seen == ids(client.get(customer_url(), {**params, "page_size": 50}))  # same order as one big page

    def test_the_previous_link_goes_back(self, as_actor):
        for i in range(5):
            CustomerFactory(name=f"C{i}")
        client = as_actor("rep")
        first = client.get(customer_url(), {"ordering": "name", "page_size": 2})
        second = client.get(first.json()["next"])

        back = client.get(second.json()["previous"])

        assert ids(back) == ids(first)

    def test_the_list_is_cursor_paginated_without_a_count(self, as_actor):
        CustomerFactory()
        body = as_actor("rep").get(customer_url()).json()
        assert set(body) == {"next", "previous", "results"}

    @pytest.mark.parametrize("position", ["p=not-a-date", "o=-1", "r=x", "p=2026-01-01T00:00:00"])
    def test_a_tampered_cursor_is_a_400(self, as_actor, position):
        CustomerFactory()
        response = as_actor("rep").get(customer_url(), {"cursor": cursor_of(position)})
        assert response.status_code == 400, position
        assert error_of(response) == INVALID_CURSOR

    @pytest.mark.parametrize("cursor", ["", "not base64 at all!", "cD0x\u00e9"])
    def test_a_cursor_that_does_not_decode_is_a_400(self, as_actor, cursor):
        response = as_actor("rep").get(customer_url(), {"cursor": cursor})
        if cursor == "":
            assert response.status_code == 200  # an empty cursor is the first page
        else:
            assert response.status_code == 400
            assert error_of(response) == INVALID_CURSOR

    @pytest.mark.parametrize(
        ("ordering", "position"),
        [
            # Timestamps: beyond year 9999, an offset PostgreSQL refuses (it takes ±15:59
            # at most), one Python refuses, and times that leave the calendar in UTC.
            (None, "99999-01-01 00:00:00+00:00"),
            (None, "2026-01-01 00:00:00+16:00"),
            ("created_at", "2026-01-01 00:00:00-23:59"),
            (None, "2026-01-01 00:00:00+99:00"),
            ("-updated_at", "0001-01-01 00:00:00+05:00"),
            ("created_at", "9999-12-31 23:59:59-05:00"),
            # Money: more digits than the column holds, not a number, too precise.
            ("credit_limit", "1e100"),
            ("credit_limit", "-99999999999999999999"),
            ("-credit_limit", "NaN"),
            ("credit_limit", "Infinity"),
            ("credit_limit", "12.345"),
            ("credit_limit", "lots"),
            # Text: PostgreSQL refuses NUL characters.
            ("name", "a\x00b"),
        ],
    )
    def test_a_cursor_position_the_column_cannot_hold_is_a_400(self, as_actor, ordering, position):
        CustomerFactory()
        params = {"cursor": cursor_of(urlencode({"p": position})), **({"ordering": ordering} if ordering else {})}

        response = as_actor("rep").get(customer_url(), params)

        assert response.status_code == 400, response.content
        assert error_of(response) == INVALID_CURSOR

    @pytest.mark.parametrize(
        ("ordering", "position"),
        [
            (None, "2026-01-01 00:00:00+15:59"),
            (None, "2026-01-01T00:00:00Z"),
            ("credit_limit", "-1"),
            ("credit_limit", "999999999999.99"),
            ("name", "Ünïcødé"),
        ],
    )
    def test_a_hand_made_cursor_the_column_can_hold_is_served(self, as_actor, ordering, position):
        CustomerFactory()
        params = {"cursor": cursor_of(urlencode({"p": position})), **({"ordering": ordering} if ordering else {})}
        assert as_actor("rep").get(customer_url(), params).status_code == 200

    @pytest.mark.parametrize("position", ["9223372036854775808", "-9223372036854775809", "1e3", "12.5"])
    def test_an_id_position_beyond_the_column_is_invalid(self, db, position):
        paginator = CursorPagination()
        paginator.ordering = ("id",)
        request = Request(APIRequestFactory().get("/", {"cursor": cursor_of(f"p={position}")}))

        with pytest.raises(InvalidCursor):
            paginator.paginate_queryset(Customer.objects.all(), request)

    def test_an_id_position_within_the_column_is_served(self, db):
        customers = CustomerFactory.create_batch(3)
        paginator = CursorPagination()
        paginator.ordering = ("id",)
        request = Request(APIRequestFactory().get("/", {"cursor": cursor_of(f"p={customers[0].pk}")}))

        page = paginator.paginate_queryset(Customer.objects.all(), request)

        assert [c.pk for c in page] == [c.pk for c in customers[1:]]

    def test_page_size_goes_up_to_200(self, as_actor):
        CustomerFactory.create_batch(3)
        assert len(ids(as_actor("rep").get(customer_url(), {"page_size": 200}))) == 3
        assert len(ids(as_actor("rep").get(customer_url(), {"page_size": 2}))) == 2

    @pytest.mark.parametrize("page_size", ["abc", "", "0", "-1", "201", "1.5", "99999999999999999999"])
    def test_a_page_size_outside_1_to_200_is_a_400(self, as_actor, page_size):
        response = as_actor("rep").get(customer_url(), {"page_size": page_size})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["page_size"]


class TestQueryCounts:
    """A list costs the same number of queries whatever the number of rows: the token
    lookup and the page itself. On a warm request the user's permissions come from the
    cache (accounts.backends) and the token's last-used stamp is at most a minute old."""

    LIST_QUERIES = 2

    @pytest.mark.parametrize("rows", [5, 50])
    def test_customer_list(self, as_actor, django_assert_num_queries, rows):
        CustomerFactory.create_batch(rows)
        client = as_actor("rep")
        client.get(customer_url())  # warm

        with django_assert_num_queries(self.LIST_QUERIES):
            response = client.get(customer_url())

        assert len(ids(response)) == rows

    @pytest.mark.parametrize("rows", [5, 50])
    def test_contact_list(self, as_actor, django_assert_num_queries, rows):
        for customer in CustomerFactory.create_batch(5):
            ContactFactory.create_batch(rows // 5, customer=customer)
        client = as_actor("rep")
        client.get(contact_url())  # warm

        with django_assert_num_queries(self.LIST_QUERIES):
            response = client.get(contact_url())

        assert len(ids(response)) == rows

    def test_customer_detail_with_contacts(self, as_actor, django_assert_num_queries, customer):
        ContactFactory.create_batch(10, customer=customer)
        client = as_actor("rep")
        client.get(customer_url(customer))  # warm

        with django_assert_num_queries(self.LIST_QUERIES + 1):  # + the contacts
            response = client.get(customer_url(customer))

        assert len(response.json()["contacts"]) == 10
