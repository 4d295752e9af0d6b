"""The bell and the notifications page: what each person was told, read and unread."""

import pytest
from django.urls import reverse
from django.utils import timezone

from collaboration import live
from collaboration.models import Notification
from collaboration.services import post
from tests.html import parse

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
LIST = reverse("collaboration:notifications")
COUNT = reverse("collaboration:notification_count")
MENU = reverse("collaboration:notification_menu")
READ_ALL = reverse("collaboration:notifications_read_all")


def bell_name(page) -> str:
    """The bell's accessible name: its one visually hidden label (the badge is aria-hidden)."""
    bell = page.by_id("notifications-bell")
    assert bell.tag == "button" and page.by_id("notifications-count").attrs["aria-hidden"] == "true"
    return bell.find(class_="visually-hidden").text


def tell(user, n=1, *, text="Rita mentioned you in Acme", url="/customers/1/", read=False):
    rows = Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                kind=Notification.Kind.MENTION,
                text=f"{text} #{i}",
                url=url,
                read_at=timezone.now() if read else None,
            )
            for i in range(n)
        ]
    )
    live.forget_unread([user.pk])
    return rows


def read_url(notification):
    return reverse("collaboration:notification_read", args=[notification.pk])


def open_url(notification):
    return reverse("collaboration:notification_open", args=[notification.pk])


class TestTheBell:
    def test_every_signed_in_page_has_a_bell_named_with_its_unread_count(self, client, clerk):
        tell(clerk, 3)
        tell(clerk, 2, read=True)
        client.force_login(clerk)
        page = parse(client.get(reverse("home")).text)
        assert bell_name(page) == "Notifications, 3 unread"
        assert page.by_id("notifications-count").text == "3"
        assert page.by_id("notifications-bell-label").attrs["hx-get"] == f"{COUNT}?shown=3"

    def test_a_long_backlog_shows_99_plus_and_says_the_number(self, client, clerk):
        tell(clerk, 120)
        client.force_login(clerk)
        page = parse(client.get(reverse("home")).text)
        assert page.by_id("notifications-count").text == "99+"
        assert bell_name(page) == "Notifications, 120 unread"

    def test_without_unread_notifications_the_bell_is_just_notifications(self, client, clerk):
        client.force_login(clerk)
        page = parse(client.get(reverse("home")).text)
        assert bell_name(page) == "Notifications"
        assert "d-none" in page.by_id("notifications-count").classes

    def test_a_mention_rings_the_bell_of_the_person_mentioned(self, client, rep, clerk, customer):
        post(target=customer, by=rep, body="@clerk please check the terms")
        client.force_login(clerk)
        assert bell_name(parse(client.get(reverse("home")).text)) == "Notifications, 1 unread"

    def test_the_poll_answers_204_while_the_count_is_unchanged_without_a_query_beyond_the_user(
        self, client, clerk, django_assert_num_queries
    ):
        tell(clerk, 2)
        client.force_login(clerk)
        client.get(reverse("home"))  # warm: count and permissions cached
        with django_assert_num_queries(1):  # the user; the count comes from the cache
            assert client.get(COUNT, {"shown": 2}, headers=HTMX).status_code == 204

    def test_the_poll_brings_the_new_badge_when_the_count_changed(self, client, clerk):
        tell(clerk, 2)
        client.force_login(clerk)
        response = client.get(COUNT, {"shown": 1}, headers=HTMX)
        assert response.status_code == 200
        label = parse(response.text).by_id("notifications-bell-label")
        assert label.find(class_="visually-hidden").text == "Notifications, 2 unread"
        assert label.by_id("notifications-count").text == "2"
        assert label.attrs["hx-get"].endswith("?shown=2")

    def test_a_made_up_shown_count_gets_the_badge(self, client, clerk):
        client.force_login(clerk)
        assert client.get(COUNT, {"shown": "<script>"}).status_code == 200

    def test_the_menu_lists_the_latest_and_links_to_the_page(self, client, clerk):
        tell(clerk, 12)
        client.force_login(clerk)
        menu = parse(client.get(MENU, headers=HTMX).text)
        items = menu.find_all(tag="a", class_="notification-menu-item")
        assert len(items) == 8
        assert "Unread:" in items[0].text and "#11" in items[0].text
        assert menu.find_all(tag="a")[-1].attrs["href"] == LIST


class TestTheList:
    def test_newest_first_with_the_unread_marked_in_words(self, signed_in, clerk):
        (older,) = tell(clerk, 1, text="Older", read=True)
        (newer,) = tell(clerk, 1, text="Newer")
        page = parse(signed_in("clerk").get(LIST).text)
        rows = page.find_all(tag="li", class_="notification-row")
        assert [row.attrs["id"] for row in rows] == [f"notification-{newer.pk}", f"notification-{older.pk}"]
        assert "New" in rows[0].find(class_="notification-new").text
        assert rows[1].find_all(class_="notification-new") == []
        assert rows[0].find(tag="a").attrs["href"] == open_url(newer)

    def test_the_unread_filter(self, signed_in, clerk):
        tell(clerk, 2, read=True)
        (unread,) = tell(clerk, 1, text="Unread one")
        page = parse(signed_in("clerk").get(LIST, {"show": "unread"}).text)
        assert [r.attrs["id"] for r in page.find_all(tag="li", class_="notification-row")] == [
            f"notification-{unread.pk}"
        ]
        assert page.find(tag="a", aria_current="page").text == "Unread"

    def test_only_my_own_notifications_are_listed(self, signed_in, clerk, rep):
        tell(rep, 1, text="For Rita")
        assert "For Rita" not in signed_in("clerk").get(LIST).text

    def test_text_is_escaped(self, signed_in, clerk):
        tell(clerk, 1, text="<script>alert(1)</script>")
        html = signed_in("clerk").get(LIST).text
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html

    def test_pages_go_back_by_a_cursor(self, signed_in, clerk):
        rows = tell(clerk, 30)
        client = signed_in("clerk")
        first = parse(client.get(LIST).text)
        assert len(first.find_all(tag="li", class_="notification-row")) == 25
        older = first.by_id("older-notifications").attrs["href"]
        second = parse(client.get(LIST + older).text)
        ids = [r.attrs["id"] for r in second.find_all(tag="li", class_="notification-row")]
        assert ids == [f"notification-{n.pk}" for n in reversed(rows[:5])]

    @pytest.mark.parametrize("before", ["99999999999999999999999", "-3", "abc", "0", "9223372036854775807"])
    def test_a_made_up_cursor_is_no_error(self, signed_in, clerk, before):
        tell(clerk, 2)
        assert signed_in("clerk").get(LIST, {"before": before}).status_code == 200

    def test_the_page_costs_the_same_for_5_and_50_notifications(self, signed_in, clerk, django_assert_num_queries):
        client = signed_in("clerk")
        tell(clerk, 5)
        client.get(LIST)  # warm: permissions and the bell's count cached
        with django_assert_num_queries(2):  # the user, the page of notifications
            client.get(LIST)
        tell(clerk, 45)
        client.get(LIST)  # the count changed: the bell counts once
        with django_assert_num_queries(2):
            response = client.get(LIST)
        assert len(response.context["notifications"]) == 25


class TestReading:
    def test_opening_one_marks_it_read_and_goes_to_its_record(self, signed_in, clerk):
        (notification,) = tell(clerk, 1, url="/customers/7/#item-3")
        response = signed_in("clerk").get(open_url(notification))
        assert response.status_code == 302 and response.url == "/customers/7/#item-3"
        notification.refresh_from_db()
        assert notification.is_read
        assert live.unread_count(clerk.pk) == 0

    def test_someone_elses_notification_is_not_found(self, signed_in, rep):
        (notification,) = tell(rep, 1)
        client = signed_in("clerk")
        assert client.get(open_url(notification)).status_code == 404
        assert client.post(read_url(notification)).status_code == 404
        notification.refresh_from_db()
        assert not notification.is_read

    def test_a_link_elsewhere_goes_to_the_list_instead(self, signed_in, clerk):
        (notification,) = tell(clerk, 1, url="https://evil.example/")
        assert signed_in("clerk").get(open_url(notification)).url == LIST

    def test_a_huge_id_is_not_found(self, signed_in, clerk):
        assert signed_in("clerk").get("/notifications/99999999999999999999999/open/").status_code == 404

    def test_mark_read_with_htmx_swaps_the_row_and_the_bell(self, signed_in, clerk):
        first, second = tell(clerk, 2)
        response = signed_in("clerk").post(read_url(first), headers=HTMX)
        page = parse(response.text)
        assert page.by_id(f"notification-{first.pk}").find_all(class_="notification-new") == []
        label = page.by_id("notifications-bell-label")
        assert label.attrs["hx-swap-oob"] == "true" and label.by_id("notifications-count").text == "1"
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.is_read and not second.is_read

    def test_mark_read_without_javascript_goes_back_to_the_list(self, signed_in, clerk):
        (notification,) = tell(clerk, 1)
        response = signed_in("clerk").post(read_url(notification), {"next": LIST + "?show=unread"})
        assert response.url == LIST + "?show=unread"

    def test_mark_read_is_a_post(self, signed_in, clerk):
        (notification,) = tell(clerk, 1)
        assert signed_in("clerk").get(read_url(notification)).status_code == 405

    def test_mark_all_read(self, signed_in, clerk, rep):
        tell(clerk, 3)
        (theirs,) = tell(rep, 1)
        client = signed_in("clerk")
        assert parse(client.get(LIST).text).by_id("mark-all-read").tag == "button"
        response = client.post(READ_ALL, headers=HTMX)
        page = parse(response.text)
        assert "Marked 3 notifications read." in page.find(role="status").text
        assert page.find_all(class_="notification-new") == []
        assert not Notification.objects.filter(user=clerk, read_at=None).exists()
        assert Notification.objects.filter(pk=theirs.pk, read_at=None).exists()
        assert bell_name(parse(client.get(reverse("home")).text)) == "Notifications"

    def test_mark_all_read_needs_the_csrf_token(self, clerk):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(clerk)
        tell(clerk, 1)
        assert client.post(READ_ALL).status_code == 403
        assert Notification.objects.filter(user=clerk, read_at=None).exists()
