"""Who sees which items, and how their text is shown: escaped, with links."""

import pytest

from collaboration import registry, services
from collaboration.models import FeedItem
from collaboration.selectors import items_visible_to, my_feed, record_feed
from collaboration.text import mention_at_cursor, mentioned_usernames, render_text
from crm.models import Customer

pytestmark = pytest.mark.django_db


def test_someone_without_a_role_sees_no_item(rep, outsider, customer):
    services.post(target=customer, by=rep, body="Internal note")
    assert not items_visible_to(outsider, FeedItem.objects.all()).exists()
    assert not record_feed(outsider, customer).exists()


def test_items_follow_the_visibility_the_owning_app_registers(rep, clerk, customer, monkeypatch):
    """A model that shows each user only some records: the feed shows their items only."""
    mine = services.post(target=customer, by=rep, body="Mine")
    hidden = Customer.objects.create(name="Hidden", owner=rep)
    theirs = services.post(target=hidden, by=rep, body="Not for the clerk")
    services.follow(clerk, hidden)
    monkeypatch.setitem(
        registry._records,
        "crm.customer",
        registry.RecordType(Customer, lambda user: Customer.objects.exclude(name="Hidden"), "customer"),
    )
    visible = items_visible_to(clerk, FeedItem.objects.all())
    assert mine in visible and theirs not in visible
    assert theirs not in my_feed(clerk)


def test_a_mention_of_someone_who_cannot_see_the_record_tells_nobody(rep, clerk, customer, monkeypatch):
    monkeypatch.setitem(
        registry._records,
        "crm.customer",
        registry.RecordType(Customer, lambda user: Customer.objects.filter(owner=user), "customer"),
    )
    services.post(target=customer, by=rep, body="@clerk look")
    assert not clerk.notifications.exists()


def test_text_is_escaped_everywhere():
    html = render_text('<script>alert("x")</script> & <b>bold</b>')
    assert "<script>" not in html and "<b>" not in html
    assert html == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"


def test_web_addresses_become_links_without_the_sentence_punctuation():
    html = render_text("See https://example.com/terms?a=1&b=2. Or (http://x.test/a_(b)).")
    assert '<a href="https://example.com/terms?a=1&amp;b=2" rel="nofollow noopener noreferrer"' in html
    assert html.endswith("</a>).")
    assert "<a" not in render_text("javascript:alert(1)")


def test_a_crafted_address_cannot_break_out_of_the_link():
    html = render_text('https://x.test/"onmouseover="alert(1)')
    assert 'onmouseover="' not in html


def test_mentions_are_linked_to_the_people_known_and_left_as_text_otherwise():
    html = render_text("@clerk and @ghost, not ann@example.com", {"clerk": "/feed/people/3/"})
    assert '<a class="mention" href="/feed/people/3/">@clerk</a>' in html
    assert "@ghost" in html and 'href="/feed/people/3/">@ghost' not in html
    assert "ann@example.com" in html


def test_mentions_are_found_once_each_and_the_one_being_typed_is_recognised():
    assert mentioned_usernames("@clerk, @rep.two and @clerk again; mail a@b.c") == ["clerk", "rep.two"]
    assert mention_at_cursor("please ask @cl") == "cl"
    assert mention_at_cursor("please ask @") == ""
    assert mention_at_cursor("mail ann@exa") is None
