"""The record page with its feed and My feed cost the same number of queries for 1
item as for 50 items with comments, likes, attachments, mentions and different actors."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import collaboration
from accounts.roles import SALES_REP
from collaboration import services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The record page's feed panel: follow state, items (with actors and "liked by me"),
# then for the page's items at once: latest comments, attachments, mentions; and the
# record's approval requests.
PANEL_QUERIES = 6
# The 360's feed panel asked for after load (crm.panels' lazy panel): the user, the customer, then the panel.
LAZY_PANEL_QUERIES = 2 + PANEL_QUERIES
# The items asked for after load: the user, the record, then the items with their details (as in the panel).
STREAM_QUERIES = 6
# The customer page without the panel (tests/crm/test_pages.py: user, customer with owner, contacts,
# and the 360's receivables figures, open deals and open cases; its other panels come after load,
# like the feed's items).
DETAIL_QUERIES = 3 + 3
# My feed: items (with actors and "liked by me"), does the user follow anything (only when empty: not here),
# latest comments, attachments, mentions; the newest item id comes from the cache.
MY_FEED_QUERIES = 4


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def busy_item(customer, actor, reader, n):
    item = services.post(
        target=customer,
        by=actor,
        body=f"Post {n} for @{reader.username} https://example.com/{n}",
        files=[SimpleUploadedFile(f"f{n}.pdf", b"%PDF", content_type="application/pdf")],
    )
    services.comment(item=item, by=reader, body=f"Comment on {n} @{actor.username}")
    services.like(item=item, by=reader)
    return item


def count(client, url) -> int:
    client.get(url)  # warm: the user, the content types
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_customer_page_costs_the_same_for_1_and_50_busy_items(signed_in, rep, clerk, customer):
    client = signed_in("clerk")
    url = reverse("crm:customer_detail", args=[customer.pk])
    drawn_in = f"{url}?feed=1"  # as without JavaScript; by default the panel comes after load
    stream = f"{reverse('collaboration:feed_items')}?on=crm.customer:{customer.pk}&part=stream"
    lazy_panel = reverse("crm:customer_panel", args=[customer.pk, "feed"])  # what the 360 asks for after load
    busy_item(customer, rep, clerk, 0)
    one = [count(client, page) for page in (url, drawn_in, stream, lazy_panel)]
    actors = [UserFactory(role=SALES_REP) for _ in range(5)]
    for n in range(1, 50):
        collaboration.follow(actors[n % 5], customer)
        busy_item(customer, actors[n % 5], clerk, n)
        collaboration.publish(customer, "customer.checked", actor=actors[n % 5], data={"n": n})
    fifty = [count(client, page) for page in (url, drawn_in, stream, lazy_panel)]
    assert one == fifty == [DETAIL_QUERIES, DETAIL_QUERIES + PANEL_QUERIES, STREAM_QUERIES, LAZY_PANEL_QUERIES]


def test_my_feed_costs_the_same_for_1_and_50_busy_items(signed_in, rep, clerk, customer):
    collaboration.follow(clerk, customer)
    client = signed_in("clerk")
    url = reverse("collaboration:my_feed")
    busy_item(customer, rep, clerk, 0)
    one = count(client, url)
    actors = [UserFactory(role=SALES_REP) for _ in range(5)]
    for n in range(1, 50):
        busy_item(customer, actors[n % 5], clerk, n)
    fifty = count(client, url)
    assert one == fifty == MY_FEED_QUERIES + 1  # + the session


def test_the_next_page_costs_the_same_as_the_first(signed_in, rep, clerk, customer):
    for n in range(45):
        busy_item(customer, rep, clerk, n)
    client = signed_in("clerk")
    first = reverse("collaboration:feed_items") + f"?on=crm.customer:{customer.pk}"
    last_id = customer and services.FeedItem.objects.order_by("-id")[19].pk
    assert count(client, first) == count(client, f"{first}&before={last_id}")
