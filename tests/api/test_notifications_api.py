"""Notifications over the API: only one's own, unread filter, mark read, mark all read."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collaboration import services
from collaboration.models import Notification

from .helpers import error_of

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/api/v1/notifications/"


def mention(customer, by, whom, text="please check"):
    services.post(target=customer, by=by, body=f"@{whom.username} {text}")
    return Notification.objects.filter(user=whom).latest("id")


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_i_see_my_notifications_newest_first_and_nobody_elses(as_actor, rep, clerk, sales_manager, customer):
    first = mention(customer, rep, clerk)
    second = mention(customer, sales_manager, clerk)
    mention(customer, clerk, rep)

    response = as_actor("clerk").get(NOTIFICATIONS)

    assert ids(response) == [second.pk, first.pk]
    row = response.json()["results"][0]
    assert row["kind"] == "mention"
    assert row["actor"] == {"id": sales_manager.pk, "name": "Sam Manager", "username": "salesmanager"}
    assert row["text"].startswith("Sam Manager mentioned you")
    assert (row["is_read"], row["read_at"]) == (False, None)
    assert row["item"] == second.item_id


def test_unread_filters_and_marking_read(as_actor, rep, clerk, customer):
    first, second = mention(customer, rep, clerk), mention(customer, rep, clerk, "again")
    client = as_actor("clerk")

    response = client.post(f"{NOTIFICATIONS}{first.pk}/read/")
    assert response.status_code == 200
    assert response.json()["is_read"] is True

    assert ids(client.get(NOTIFICATIONS, {"unread": "true"})) == [second.pk]
    assert ids(client.get(NOTIFICATIONS, {"unread": "false"})) == [first.pk]
    assert client.post(f"{NOTIFICATIONS}read-all/").json() == {"marked": 1}
    assert ids(client.get(NOTIFICATIONS, {"unread": "true"})) == []
    assert client.post(f"{NOTIFICATIONS}read-all/").json() == {"marked": 0}


def test_someone_elses_notification_is_a_404_and_stays_unread(as_actor, rep, clerk, customer):
    theirs = mention(customer, rep, clerk)
    client = as_actor("rep")
    for response in (client.get(f"{NOTIFICATIONS}{theirs.pk}/"), client.post(f"{NOTIFICATIONS}{theirs.pk}/read/")):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    client.post(f"{NOTIFICATIONS}read-all/")
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_a_bad_unread_value_is_a_400(as_actor, value):
    response = as_actor("clerk").get(NOTIFICATIONS, {"unread": value})
    assert response.status_code == 400
    assert "unread" in error_of(response)["fields"]


@pytest.mark.parametrize("path", ["99999999999999999999/read/", "0/read/", "-1/read/"])
def test_ids_that_cannot_exist_are_404s(as_actor, path):
    assert as_actor("clerk").post(NOTIFICATIONS + path).status_code == 404


def test_a_read_only_token_cannot_mark_read(as_actor, rep, clerk, customer):
    notification = mention(customer, rep, clerk)
    client = as_actor("clerk", scope="read")
    assert client.post(f"{NOTIFICATIONS}{notification.pk}/read/").status_code == 403
    assert client.post(f"{NOTIFICATIONS}read-all/").status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None
    assert ids(client.get(NOTIFICATIONS)) == [notification.pk]


def test_anonymous_is_asked_to_authenticate(api_client):
    assert api_client.get(NOTIFICATIONS).status_code == 401


def test_the_list_costs_the_same_for_2_and_for_50(as_actor, rep, sales_manager, clerk, customer):
    client = as_actor("clerk")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(NOTIFICATIONS)
        return len(captured), len(response.json()["results"])

    for n in range(2):
        mention(customer, [rep, sales_manager][n % 2], clerk, f"note {n}")
    client.get(NOTIFICATIONS)
    few = queries()
    for n in range(48):
        mention(customer, [rep, sales_manager][n % 2], clerk, f"note {n}")
    many = queries()
    assert (few[1], many[1]) == (2, 50)
    assert few[0] == many[0]
