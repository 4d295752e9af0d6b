"""The feed panel on a record page, My feed and a person's page: posting (with files),
comments, likes, the follow button, @mention suggestions, escaping and bad input."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

import collaboration
from collaboration import services
from collaboration.models import Attachment, Comment, FeedItem, Follow, Reaction
from crm import services as crm
from tests.factories import CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
XSS = "<script>alert(1)</script>"


def on(record) -> str:
    return f"{record._meta.label_lower}:{record.pk}"


def detail_url(customer):
    return reverse("crm:customer_detail", args=[customer.pk])


def panel_url(customer):
    """The customer's page with its feed drawn in (as without JavaScript): by default
    the 360 asks for the feed's items after load (TestLazyOnTheCustomerPage)."""
    return detail_url(customer) + "?feed=1"


def post_url():
    return reverse("collaboration:post")


def items(response):
    return parse(response.text).find_all(tag="article", class_="feed-item")


def upload(name="terms.pdf", content=b"%PDF-1.4 terms", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class TestLazyOnTheCustomerPage:
    """The 360 asks for its feed panel (follow, composer, approvals and the items) once
    shown, as Chatter and Odoo's chatter do; without JavaScript a link draws it in."""

    def test_the_page_asks_for_the_panel_after_load(self, signed_in, rep, customer):
        services.post(target=customer, by=rep, body="Hello from the feed")
        client = signed_in("rep")
        page = parse(client.get(detail_url(customer)).text)
        placeholder = page.by_id("feed-lazy-panel")
        assert placeholder.attrs["hx-trigger"] == "load"
        assert placeholder.attrs["hx-get"] == reverse("crm:customer_panel", args=[customer.pk, "feed"])
        assert not page.find_all(tag="article", class_="feed-item") and not page.find_all(id="feed-composer")
        assert placeholder.find(tag="a").attrs["href"] == "?feed=1"
        loaded = parse(client.get(placeholder.attrs["hx-get"], headers=HTMX).text)
        assert loaded.by_id("feed-composer") and loaded.by_id("follow-button")
        assert [card.find(class_="feed-text").text for card in loaded.find_all(tag="article", class_="feed-item")] == [
            "Hello from the feed"
        ]
        assert loaded.by_id("feed-poller")  # live updates start with the items

    def test_without_javascript_the_link_draws_the_panel_in(self, signed_in, rep, customer):
        services.post(target=customer, by=rep, body="Hello from the feed")
        page = signed_in("rep").get(panel_url(customer))
        assert len(items(page)) == 1 and parse(page.text).by_id("feed-composer")


class TestPanelOnTheCustomerPage:
    def test_the_customer_page_shows_the_panel_with_its_parts(self, signed_in, customer):
        page = parse(signed_in("rep").get(panel_url(customer)).text)
        panel = page.by_id("feed-panel")
        assert panel.find(tag="textarea", id="feed-body")
        assert panel.find(tag="button", id="feed-post")
        assert panel.find(id="feed-items")
        assert "Following" not in panel.find(tag="button", id="follow-button").text
        assert panel.ancestor(tag="aside")
        assert "Nothing posted yet" in panel.text

    def test_items_show_newest_first_with_actor_and_time(self, signed_in, rep, clerk, customer):
        services.post(target=customer, by=rep, body="First")
        services.post(target=customer, by=clerk, body="Second")
        cards = items(signed_in("rep").get(panel_url(customer)))
        assert [card.find(class_="feed-text").text for card in cards] == ["Second", "First"]
        assert "Clara Clerk" in cards[0].find(tag="h3").text
        assert cards[0].find(tag="time").attrs["datetime"]
        assert cards[0].attrs["id"].startswith("item-")

    def test_a_change_reads_as_label_old_and_new_formatted(self, signed_in, finance_manager, customer):
        crm.update_customer(customer=customer, by=finance_manager, data={"credit_limit": Decimal("5000")})
        (card,) = items(signed_in("rep").get(panel_url(customer)))
        text = card.find(class_="feed-changes").text
        assert "Credit limit:" in text
        assert "10,000.00" in text and "5,000.00" in text and "EUR" in text

    def test_an_event_reads_its_registered_message_escaped(self, signed_in, rep, customer, monkeypatch):
        from collaboration import registry

        monkeypatch.setitem(registry._events, "invoice.issued", "Invoice {number} issued for {amount}")
        collaboration.publish(
            customer, "invoice.issued", actor=rep, data={"number": XSS, "amount": "4200.00", "currency": "EUR"}
        )
        collaboration.publish(customer, "invoice.voided", actor=rep, data={})
        collaboration.publish(customer, "invoice.sent", actor=rep, data={"x": 1})
        monkeypatch.setitem(registry._events, "invoice.sent", "Sent to {missing}")
        response = signed_in("rep").get(panel_url(customer))
        assert XSS not in response.text
        texts = [card.find(class_="feed-event").text for card in items(response)]
        assert texts[0] == "Invoice sent"  # a value the message names is missing: the verb in words
        assert texts[1] == "Invoice voided"  # no message registered
        assert texts[2] == f"Invoice {XSS} issued for 4,200.00 EUR"

    def test_an_item_rolled_up_from_another_record_names_it(self, signed_in, rep, customer):
        other = CustomerFactory(owner=rep, name="Child record")
        collaboration.publish(other, "invoice.voided", actor=rep, also_on=[customer])
        (card,) = items(signed_in("rep").get(panel_url(customer)))
        link = card.find(tag="h3").find(tag="a", href=detail_url(other))
        assert link.text == "Child record"

    def test_load_more_pages_by_before(self, signed_in, rep, customer):
        for n in range(25):
            collaboration.publish(customer, "customer.checked", actor=rep, data={"n": n})
        client = signed_in("rep")
        page = parse(client.get(panel_url(customer)).text)
        assert len(page.find_all(tag="article", class_="feed-item")) == 20
        more = page.find(class_="feed-more").find(tag="button")
        assert "revealed" in more.attrs["hx-trigger"]
        response = client.get(more.attrs["hx-get"], headers=HTMX)
        assert len(items(response)) == 5
        assert "feed-more" not in response.text

    def test_the_filters_show_posts_or_events(self, signed_in, rep, customer):
        services.post(target=customer, by=rep, body="A post")
        collaboration.publish(customer, "customer.checked", actor=rep)
        client = signed_in("rep")
        url = reverse("collaboration:feed_items")
        posts = client.get(url, {"on": on(customer), "show": "posts", "part": "stream"}, headers=HTMX)
        assert [c.find(class_="feed-text").text for c in items(posts)] == ["A post"]
        events = client.get(url, {"on": on(customer), "show": "events", "part": "stream"}, headers=HTMX)
        assert len(items(events)) == 1 and "feed-event" in events.text
        # Without JavaScript the filter links reload the record page with the panel drawn in and show=.
        assert len(items(client.get(detail_url(customer), {"feed": 1, "show": "posts"}))) == 1


class TestPosting:
    def test_posting_with_attachments(self, signed_in, rep, customer, django_capture_on_commit_callbacks):
        client = signed_in("rep")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                post_url(),
                {"on": on(customer), "body": "Signed terms attached", "files": [upload(), upload("notes.txt", b"hi")]},
                headers=HTMX,
            )
        assert response.status_code == 200
        assert response.headers["HX-Trigger"].startswith('{"feed:refresh"')
        assert parse(response.text).by_id("feed-body").text == ""  # a fresh composer
        # …and the follow button, out of band: the author follows the record now.
        assert parse(response.text).by_id("follow-form").attrs["hx-swap-oob"] == "true"
        assert parse(response.text).by_id("follow-button").text.startswith("Following")
        item = FeedItem.objects.get(kind="post")
        assert sorted(item.attachments.values_list("name", flat=True)) == ["notes.txt", "terms.pdf"]
        card = items(client.get(panel_url(customer)))[0]
        names = [a.text for a in card.find(class_="feed-attachments").find_all(tag="a")]
        assert names == ["terms.pdf", "notes.txt"]

    def test_an_empty_post_is_refused_next_to_the_field(self, signed_in, customer):
        response = signed_in("rep").post(post_url(), {"on": on(customer), "body": "   "}, headers=HTMX)
        assert response.status_code == 400
        page = parse(response.text)
        assert page.by_id("feed-body-error").text == "Write something to post."
        assert page.by_id("feed-body").attrs["aria-invalid"] == "true"
        assert not FeedItem.objects.filter(kind="post").exists()

    def test_a_disallowed_or_oversized_file_is_named_with_the_limit_and_the_text_kept(
        self, signed_in, customer, settings
    ):
        client = signed_in("rep")
        response = client.post(
            post_url(), {"on": on(customer), "body": "See file", "files": [upload("run.exe")]}, headers=HTMX
        )
        assert response.status_code == 400
        page = parse(response.text)
        assert "“run.exe” is not a file type you can attach here" in page.by_id("feed-files-error").text
        assert page.by_id("feed-body").text == "See file"
        settings.FEED_ATTACHMENT_MAX_BYTES = 1_048_576
        big = upload("big.pdf", b"x" * 1_100_000)
        response = client.post(post_url(), {"on": on(customer), "body": "See file", "files": [big]}, headers=HTMX)
        assert response.status_code == 400
        assert (
            "“big.pdf” is 1.0 MB; attachments may be up to 1 MB" in parse(response.text).by_id("feed-files-error").text
        )
        assert not FeedItem.objects.filter(kind="post").exists()

    def test_without_htmx_a_post_returns_to_the_page(self, signed_in, customer):
        response = signed_in("rep").post(post_url(), {"on": on(customer), "body": "Plain"})
        assert response.status_code == 302
        assert response.url.startswith(detail_url(customer) + "#item-")

    @pytest.mark.parametrize("value", ["", "crm.customer", "crm.customer:x", "nope.model:1", "crm.customer:-1"])
    def test_a_malformed_record_is_a_400(self, signed_in, value):
        client = signed_in("rep")
        assert client.post(post_url(), {"on": value, "body": "x"}, headers=HTMX).status_code == 400
        assert client.get(reverse("collaboration:feed_items"), {"on": value}).status_code == 400

    def test_a_record_the_user_may_not_see_is_a_404(self, signed_in, customer):
        assert signed_in("outsider").post(post_url(), {"on": on(customer), "body": "x"}).status_code == 404

    @pytest.mark.parametrize("param", ["before", "after"])
    def test_a_malformed_position_is_a_400(self, signed_in, customer, param):
        client = signed_in("rep")
        url = reverse("collaboration:live" if param == "after" else "collaboration:feed_items")
        assert client.get(url, {"on": on(customer), param: "abc"}).status_code == 400
        assert client.get(url, {"on": on(customer), param: str(2**70)}).status_code == 400


class TestEscaping:
    def test_script_in_a_post_and_a_comment_is_text_everywhere(self, signed_in, rep, clerk, customer):
        collaboration.follow(clerk, customer)
        item = services.post(target=customer, by=rep, body=f"{XSS} see https://example.com/?a=<b> @clerk")
        services.comment(item=item, by=clerk, body=f"{XSS} ok")
        client = signed_in("clerk")
        pages = [
            client.get(panel_url(customer)),
            client.get(reverse("collaboration:my_feed")),
            client.get(reverse("collaboration:comments", args=[item.pk]), headers=HTMX),
            client.get(reverse("collaboration:person_feed", args=[rep.pk])),
        ]
        for response in pages:
            assert response.status_code == 200
            assert XSS not in response.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
        card = items(pages[0])[0]
        assert card.find(tag="a", class_="mention").attrs["href"] == reverse(
            "collaboration:person_feed", args=[clerk.pk]
        )
        assert card.find(tag="a", href="https://example.com/?a=")


class TestComments:
    def test_commenting_shows_the_comment_under_the_item(self, signed_in, rep, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        response = signed_in("clerk").post(
            reverse("collaboration:comments", args=[item.pk]), {"body": "Answer"}, headers=HTMX
        )
        assert response.status_code == 200
        section = parse(response.text).by_id(f"comments-{item.pk}")
        assert [c.find(class_="feed-text").text for c in section.find_all(class_="feed-comment")] == ["Answer"]
        assert Comment.objects.get().author.username == "clerk"

    def test_the_latest_three_show_oldest_first_and_the_rest_on_request(self, signed_in, rep, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        for n in range(5):
            services.comment(item=item, by=rep, body=f"c{n}")
        client = signed_in("rep")
        card = items(client.get(panel_url(customer)))[0]
        assert [c.find(class_="feed-text").text for c in card.find_all(class_="feed-comment")] == ["c2", "c3", "c4"]
        show_all = card.find(tag="button", hx_get=reverse("collaboration:comments", args=[item.pk]))
        assert show_all.text == "Show all 5 comments"
        everything = parse(client.get(show_all.attrs["hx-get"], headers=HTMX).text)
        assert [c.find(class_="feed-text").text for c in everything.find_all(class_="feed-comment")] == [
            f"c{n}" for n in range(5)
        ]

    def test_an_empty_comment_is_refused_next_to_the_box(self, signed_in, rep, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        response = signed_in("rep").post(reverse("collaboration:comments", args=[item.pk]), {"body": ""}, headers=HTMX)
        assert response.status_code == 400
        assert parse(response.text).by_id(f"comment-error-{item.pk}").text == "Write a comment first."

    def test_comment_or_like_on_an_item_the_user_cannot_see_is_a_404(self, signed_in, rep, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        client = signed_in("outsider")
        assert client.post(reverse("collaboration:comments", args=[item.pk]), {"body": "x"}).status_code == 404
        assert client.get(reverse("collaboration:comments", args=[item.pk])).status_code == 404
        assert client.post(reverse("collaboration:like", args=[item.pk])).status_code == 404
        assert not Comment.objects.exists() and not Reaction.objects.exists()


class TestLikesAndFollows:
    def test_like_and_unlike_toggle_the_button_and_count(self, signed_in, rep, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        client = signed_in("clerk")
        url = reverse("collaboration:like", args=[item.pk])
        button = parse(client.post(url, {"action": "like"}, headers=HTMX).text).by_id(f"like-{item.pk}")
        assert button.attrs["aria-pressed"] == "true" and "1" in button.text
        client.post(url, {"action": "like"}, headers=HTMX)  # twice: still one
        assert Reaction.objects.count() == 1
        button = parse(client.post(url, {"action": "unlike"}, headers=HTMX).text).by_id(f"like-{item.pk}")
        assert button.attrs["aria-pressed"] == "false"
        assert not Reaction.objects.exists()

    def test_the_follow_button_follows_and_unfollows(self, signed_in, clerk, customer):
        client = signed_in("clerk")
        url = reverse("collaboration:follow")
        response = client.post(url, {"on": on(customer), "action": "follow"}, headers=HTMX)
        assert parse(response.text).by_id("follow-button").text.startswith("Following")
        assert Follow.objects.filter(user=clerk, target_id=customer.pk).exists()
        page = parse(client.get(panel_url(customer)).text)
        assert page.by_id("follow-button").text.startswith("Following")
        response = client.post(url, {"on": on(customer), "action": "unfollow"}, headers=HTMX)
        assert parse(response.text).by_id("follow-button").text == "Follow"
        assert not Follow.objects.filter(user=clerk).exists()
        assert client.post(url, {"on": on(customer), "action": "x"}).status_code == 400


class TestMentionSuggestions:
    def suggest(self, client, record, body):
        response = client.get(
            reverse("collaboration:mention_suggestions"), {"on": on(record), "body": body, "list": "feed-mentions"}
        )
        assert response.status_code == 200
        return [o.attrs["data-username"] for o in parse(response.text).find_all(role="option")]

    def test_typing_at_and_letters_lists_matching_people_who_may_see_the_record(self, signed_in, actors, customer):
        client = signed_in("rep")
        assert self.suggest(client, customer, "please ask @cl") == ["clerk"]
        assert self.suggest(client, customer, "@Fio") == ["financemanager"]  # by first name
        assert self.suggest(client, customer, "no mention here") == []
        assert "outsider" not in self.suggest(client, customer, "@")  # no role: not mentionable
        assert "rep" not in self.suggest(client, customer, "@")  # not oneself
        assert len(self.suggest(client, customer, "@")) <= 8

    def test_the_textarea_asks_debounced_and_names_its_listbox(self, signed_in, customer):
        page = parse(signed_in("rep").get(panel_url(customer)).text)
        body = page.by_id("feed-body")
        assert body.attrs["hx-trigger"] == "keyup changed delay:200ms"
        assert body.attrs["aria-controls"] == "feed-mentions"
        assert page.by_id("feed-mentions").attrs["role"] == "listbox"


class TestAttachments:
    def test_download_checks_the_viewer_may_see_the_record(self, signed_in, rep, customer):
        item = services.post(target=customer, by=rep, body="File", files=[upload()])
        attachment = Attachment.objects.get(item=item)
        url = reverse("collaboration:attachment", args=[attachment.pk])
        response = signed_in("clerk").get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"%PDF-1.4 terms"
        assert response["Content-Disposition"].startswith("attachment")
        assert 'filename="terms.pdf"' in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert signed_in("outsider").get(url).status_code == 404
        assert not attachment.file.url.startswith(url)


class TestMyFeedAndPersonPages:
    def test_my_feed_lists_what_i_follow_and_mentions_with_filters(self, signed_in, rep, clerk, customer):
        collaboration.follow(clerk, customer)
        other = CustomerFactory(owner=rep)
        services.post(target=customer, by=rep, body="On a followed record")
        services.post(target=other, by=rep, body="@clerk have a look")
        collaboration.publish(customer, "customer.checked", actor=rep)
        client = signed_in("clerk")
        page = parse(client.get(reverse("collaboration:my_feed")).text)
        assert page.by_id("feed-items")
        assert len(page.find_all(tag="article", class_="feed-item")) == 3

        def shown(show):
            return len(items(client.get(reverse("collaboration:my_feed"), {"show": show})))

        assert (shown("posts"), shown("events"), shown("mentions")) == (2, 1, 1)

    def test_an_empty_my_feed_says_how_to_follow(self, signed_in):
        page = parse(signed_in("clerk").get(reverse("collaboration:my_feed")).text)
        assert "press Follow" in page.find(class_="feed-empty").text

    def test_my_feed_is_in_the_navigation(self, signed_in):
        page = parse(signed_in("clerk").get(reverse("collaboration:my_feed")).text)
        link = page.find(tag="a", href=reverse("collaboration:my_feed"))
        assert link.attrs.get("aria-current") == "page"

    def test_a_person_page_shows_name_role_follow_button_and_their_items(self, signed_in, rep, customer):
        services.post(target=customer, by=rep, body="Rita was here")
        page = parse(signed_in("clerk").get(reverse("collaboration:person_feed", args=[rep.pk])).text)
        assert page.find(tag="h1").text.startswith("Rita Rep")
        assert page.by_id("person-role").text == "Sales rep"
        assert page.by_id("follow-button")
        (card,) = page.find_all(tag="article", class_="feed-item")
        assert "Acme Industries GmbH" in card.find(tag="h3").text

    def test_a_person_page_is_404_for_who_cannot_see_people(self, signed_in, rep):
        assert signed_in("outsider").get(reverse("collaboration:person_feed", args=[rep.pk])).status_code == 404


class TestLiveUpdates:
    def live(self, client, on_, after, **params):
        return client.get(reverse("collaboration:live"), {"on": on_, "after": after, **params})

    def test_nothing_new_is_a_204_from_the_cache_without_a_query(
        self, signed_in, rep, customer, django_assert_num_queries, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            item = services.post(target=customer, by=rep, body="Hello")
        client = signed_in("clerk")
        assert self.live(client, on(customer), item.pk).status_code == 204  # warm: the user
        assert self.live(client, "inbox", 10**6).status_code == 204  # a lost key is read once, then cached
        with django_assert_num_queries(SESSION_QUERIES):
            assert self.live(client, on(customer), item.pk).status_code == 204
        with django_assert_num_queries(SESSION_QUERIES):
            assert self.live(client, "inbox", 10**6).status_code == 204

    def test_something_new_is_a_200_with_the_item_and_the_next_poller(
        self, signed_in, rep, customer, django_capture_on_commit_callbacks
    ):
        client = signed_in("clerk")
        page = parse(client.get(panel_url(customer)).text)
        poller = page.by_id("feed-poller")
        assert poller.attrs["hx-trigger"].startswith("every 1500ms")
        assert poller.attrs["hx-swap"] == "afterbegin" and poller.attrs["hx-target"] == "#feed-items"
        assert self.live(client, on(customer), 0).status_code == 204
        with django_capture_on_commit_callbacks(execute=True):
            item = services.post(target=customer, by=rep, body="@clerk please check the terms")
        response = client.get(poller.attrs["hx-get"])
        assert response.status_code == 200
        fresh = parse(response.text)
        assert [card.attrs["id"] for card in items(response)] == [f"item-{item.pk}"]
        new_poller = fresh.by_id("feed-poller")
        assert new_poller.attrs["hx-swap-oob"] == "true"
        assert f"after={item.pk}" in new_poller.attrs["hx-get"]
        assert fresh.by_id("feed-live-status").text == "1 new item"
        assert self.live(client, on(customer), item.pk).status_code == 204

    def test_my_feed_polls_its_inbox(self, signed_in, rep, clerk, customer, django_capture_on_commit_callbacks):
        client = signed_in("clerk")
        poller = parse(client.get(reverse("collaboration:my_feed")).text).by_id("feed-poller")
        assert "on=inbox" in poller.attrs["hx-get"]
        with django_capture_on_commit_callbacks(execute=True):
            item = services.post(target=customer, by=rep, body="@clerk please check the terms")
        response = client.get(poller.attrs["hx-get"])
        assert [card.attrs["id"] for card in items(response)] == [f"item-{item.pk}"]

    def test_new_items_are_only_those_the_user_may_see(
        self, signed_in, rep, customer, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            services.post(target=customer, by=rep, body="Secret")
        assert self.live(signed_in("outsider"), on(customer), 0).status_code == 404

    def test_a_signed_out_poll_is_told_to_reload_the_page(self, client, customer):
        response = self.live(client, on(customer), 0)
        assert response.status_code == 401
        assert response.headers["HX-Refresh"] == "true"

    def test_news_for_a_session_whose_user_was_deactivated_is_refused(
        self, signed_in, rep, clerk, customer, django_capture_on_commit_callbacks
    ):
        client = signed_in("clerk")
        with django_capture_on_commit_callbacks(execute=True):
            services.post(target=customer, by=rep, body="After they left")
        clerk.is_active = False
        clerk.save()
        response = self.live(client, on(customer), 0)
        assert response.status_code == 401
        assert b"After they left" not in response.content

    def test_live_answers_are_never_cached_by_the_browser(self, signed_in, customer):
        response = self.live(signed_in("rep"), on(customer), 0)
        assert "no-store" in response.headers["Cache-Control"]

    def test_a_malformed_live_request_is_a_400(self, signed_in):
        client = signed_in("rep")
        assert self.live(client, "crm.customer:x", 0).status_code == 400
        assert self.live(client, "crm.customer:1", "").status_code == 400


# A warm poll reads the session from the cache and knows the person by the id it holds:
# no query at all (the user row is loaded only when there is something to render).
SESSION_QUERIES = 0


class TestTheCommentBox:
    def test_cards_offer_a_comment_button_that_opens_the_box(self, signed_in, rep, customer):
        item = services.post(target=customer, by=rep, body="Renewal signed")
        client = signed_in("clerk")
        page = parse(client.get(panel_url(customer)).text)
        opener = page.by_id(f"comment-open-{item.pk}")
        assert opener.text.startswith("Comment")
        assert "disabled" not in page.by_id(f"like-{item.pk}").attrs  # the record page's panel knows who may
        assert not page.find_all(tag="textarea", id=f"comment-body-{item.pk}")
        box = parse(client.get(opener.attrs["hx-get"], HTTP_HX_REQUEST="true").text)
        (textarea,) = box.find_all(tag="textarea", id=f"comment-body-{item.pk}")
        assert "autofocus" in textarea.attrs and textarea.attrs["aria-controls"] == f"mentions-{item.pk}"

    def test_after_commenting_the_box_stays_open_for_the_next(self, signed_in, rep, customer):
        item = services.post(target=customer, by=rep, body="Renewal signed")
        client = signed_in("clerk")
        url = reverse("collaboration:comments", args=[item.pk])
        response = client.post(url, {"body": "Congrats <b>team</b>"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        answer = parse(response.text)
        assert "Congrats <b>team</b>" in answer.text
        assert answer.find_all(tag="textarea", id=f"comment-body-{item.pk}")
        count = answer.by_id(f"comment-count-{item.pk}")
        assert count.attrs["hx-swap-oob"] == "true" and count.text == "1 comment"

    def test_no_comment_button_for_someone_who_may_not_post(self, signed_in, rep, customer, outsider):
        services.post(target=customer, by=rep, body="Renewal signed")
        assert signed_in("outsider").get(detail_url(customer)).status_code in (403, 404)
