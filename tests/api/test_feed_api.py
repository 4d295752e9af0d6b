"""The feed over the API: a record's feed and My feed, posts with attachments,
comments, likes and follows; every refusal a JSON error of the shared shape that
changes nothing; a page's queries do not grow with its items."""

import base64

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

import collaboration
from collaboration import registry, services
from collaboration.models import Attachment, Comment, FeedItem, Follow, Reaction
from crm.models import Customer
from tests.factories import CustomerFactory

from .helpers import error_of

pytestmark = pytest.mark.django_db

FEED = "/api/v1/feed/"
POSTS = "/api/v1/feed/posts/"
FOLLOWS = "/api/v1/follows/"


def key(record) -> str:
    return f"{record._meta.label_lower}:{record.pk}"


def item_url(item, suffix=""):
    return f"{FEED}{getattr(item, 'pk', item)}/{suffix}"


def results(response) -> list[dict]:
    assert response.status_code == 200, response.json()
    return response.json()["results"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def only_owners_see_customers(monkeypatch):
    """As an app may decide: a customer is seen by its owner only (others get nothing)."""
    monkeypatch.setitem(
        registry._records,
        "crm.customer",
        registry.RecordType(Customer, lambda user: Customer.objects.filter(owner_id=user.pk), "customer"),
    )


def upload(name="terms.pdf", content=b"%PDF-1.4 terms", content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def nothing_changed(before: dict) -> bool:
    return before == counts()


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in (FeedItem, Comment, Attachment, Reaction, Follow)}


class TestReadingFeeds:
    def test_a_records_feed_lists_its_items_newest_first_with_everything_a_card_shows(
        self, as_actor, rep, clerk, customer
    ):
        event = collaboration.publish(customer, "customer.created", actor=rep)
        post = services.post(target=customer, by=rep, body="@clerk please check the terms")
        services.comment(item=post, by=clerk, body="On it")
        services.like(item=post, by=clerk)

        rows = results(as_actor("clerk").get(FEED, {"target": key(customer)}))

        assert [row["id"] for row in rows] == [post.pk, event.pk]
        card = rows[0]
        assert card["kind"] == "post" and card["verb"] == "post"
        assert card["target"] == {
            "type": "crm.customer",
            "id": customer.pk,
            "label": customer.name,
            "url": customer.get_absolute_url(),
        }
        assert card["actor"] == {"id": rep.pk, "name": "Rita Rep", "username": "rep"}
        assert card["body"] == "@clerk please check the terms"
        assert (card["comment_count"], card["like_count"], card["liked"]) == (1, 1, True)
        assert card["mentions"] == [{"id": clerk.pk, "name": "Clara Clerk", "username": "clerk"}]
        assert [c["body"] for c in card["latest_comments"]] == ["On it"]
        assert card["latest_comments"][0]["author"]["id"] == clerk.pk
        assert rows[1]["text"] == "Created the customer"

    def test_my_feed_lists_what_i_follow_and_what_mentions_me(self, as_actor, rep, clerk, customer):
        other = CustomerFactory(owner=rep)
        collaboration.follow(clerk, customer)
        followed = collaboration.publish(customer, "customer.checked", actor=rep)
        collaboration.publish(other, "customer.checked", actor=rep)
        mention = services.post(target=other, by=rep, body="@clerk look here")

        unrelated = collaboration.publish(CustomerFactory(owner=rep), "customer.checked", actor=rep)

        mine = [row["id"] for row in results(as_actor("clerk").get(FEED, {"followed": "true"}))]
        assert mine[0] == mention.pk  # newest first
        assert followed.pk in mine
        assert unrelated.pk not in mine
        mentions = results(as_actor("clerk").get(FEED, {"followed": "true", "show": "mentions"}))
        assert [row["id"] for row in mentions] == [mention.pk]

    def test_kind_filters_posts_events_and_changes(self, as_actor, rep, customer):
        event = collaboration.publish(customer, "customer.checked", actor=rep)
        post = services.post(target=customer, by=rep, body="Hello")
        client = as_actor("rep")
        assert [r["id"] for r in results(client.get(FEED, {"target": key(customer), "kind": "post"}))] == [post.pk]
        assert [r["id"] for r in results(client.get(FEED, {"target": key(customer), "kind": "event"}))] == [event.pk]
        assert results(client.get(FEED, {"target": key(customer), "kind": "change"})) == []
        assert [r["id"] for r in results(client.get(FEED, {"followed": "true", "kind": "post"}))] == [post.pk]

    def test_pages_follow_the_cursor_without_repeating_an_item(self, as_actor, rep, customer):
        items = [collaboration.publish(customer, "customer.checked", actor=rep) for _ in range(5)]
        client = as_actor("rep")
        response = client.get(FEED, {"target": key(customer), "page_size": 2})
        seen = [row["id"] for row in results(response)]
        while response.json()["next"]:
            response = client.get(response.json()["next"])
            seen += [row["id"] for row in results(response)]
        assert seen == [item.pk for item in reversed(items)]

    def test_one_item(self, as_actor, rep, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        response = as_actor("clerk").get(item_url(item))
        assert response.status_code == 200
        assert response.json()["body"] == "Hello"

    def test_post_bodies_come_back_as_typed_never_as_html(self, as_actor, rep, customer):
        services.post(target=customer, by=rep, body="<script>alert(1)</script>")
        (row,) = results(as_actor("rep").get(FEED, {"target": key(customer)}))
        assert row["body"] == "<script>alert(1)</script>"  # plain text: the client escapes it


class TestFeedRefusals:
    @pytest.mark.parametrize(
        "target",
        [
            "auth.user:1",  # no such kind of record
            "crm.contact:1",  # a model without a feed
            "crm.customer:-1",
            "crm.customer:0",
            "crm.customer:abc",
            "x",
            "",
            "crm.customer:99999999999999999999",
            "crm.customer:9223372036854775808",  # one past bigint
            "crm.customer:9223372036854775807",  # the largest id: none such
            "crm.customer:12:13",
            "CRM.Customer:1",
            "crm.customer:1\x00",
        ],
    )
    def test_a_target_that_is_not_a_record_you_may_see_is_a_400_on_target(self, as_actor, customer, target):
        response = as_actor("rep").get(FEED, {"target": target})
        assert response.status_code == 400
        assert "target" in error_of(response)["fields"]

    def test_a_record_you_may_not_see_reads_as_one_that_does_not_exist(
        self, as_actor, rep, other_rep, customer, only_owners_see_customers
    ):
        hidden = error_of(as_actor("other_rep").get(FEED, {"target": key(customer)}))
        missing = error_of(as_actor("other_rep").get(FEED, {"target": "crm.customer:999999"}))
        assert hidden == missing
        assert hidden["fields"]["target"] == ["No such record, or you may not see it."]

    @pytest.mark.parametrize("params", [{}, {"followed": "false"}, {"followed": "true", "target": "crm.customer:1"}])
    def test_one_feed_must_be_asked_for(self, as_actor, customer, params):
        if "target" in params:
            params["target"] = key(customer)
        response = as_actor("rep").get(FEED, params)
        assert response.status_code == 400
        assert "My feed" in error_of(response)["message"]

    @pytest.mark.parametrize(
        "params", [{"followed": "maybe"}, {"followed": "true", "kind": "poem"}, {"followed": "true", "show": "all"}]
    )
    def test_a_bad_filter_value_is_a_400(self, as_actor, params):
        assert as_actor("rep").get(FEED, params).status_code == 400

    @pytest.mark.parametrize("position", ["99999999999999999999", "-99999999999999999999", "1e3", "abc", "\x00"])
    def test_a_crafted_cursor_is_a_400(self, as_actor, customer, position):
        cursor = base64.b64encode(f"o=0&r=0&p={position}".encode()).decode()
        response = as_actor("rep").get(FEED, {"target": key(customer), "cursor": cursor})
        assert response.status_code == 400
        assert error_of(response)["code"] == "invalid_cursor"

    def test_items_on_records_you_may_not_see_are_left_out_and_404(
        self, as_actor, rep, other_rep, customer, only_owners_see_customers
    ):
        item = services.post(target=customer, by=rep, body="For my eyes")
        attachment_item = services.post(target=customer, by=rep, body="With a file", files=[upload()])
        attachment = attachment_item.attachments.get()
        collaboration.follow(other_rep, customer)  # followed before they lost sight of it
        client = as_actor("other_rep")
        before = counts()

        assert results(client.get(FEED, {"followed": "true"})) == []
        for response in (
            client.get(item_url(item)),
            client.get(item_url(item, "comments/")),
            client.post(item_url(item, "comments/"), {"body": "Let me in"}),
            client.post(item_url(item, "like/")),
            client.delete(item_url(item, "like/")),
            client.get(item_url(attachment_item, f"attachments/{attachment.pk}/")),
        ):
            assert response.status_code == 404, response.content
            assert error_of(response)["code"] == "not_found"
        assert nothing_changed(before)

    @pytest.mark.parametrize("path", ["99999999999999999999/", "9223372036854775807/", "-1/", "abc/"])
    def test_an_id_that_cannot_be_an_item_is_a_404(self, as_actor, path):
        assert as_actor("rep").get(FEED + path).status_code == 404

    def test_a_user_without_a_role_sees_nothing(self, as_actor, rep, customer):
        services.post(target=customer, by=rep, body="Hello")
        client = as_actor("outsider")
        for response in (client.get(FEED, {"followed": "true"}), client.get(FEED, {"target": key(customer)})):
            assert response.status_code == 403
            assert error_of(response)["code"] == "permission_denied"

    def test_anonymous_is_asked_to_authenticate(self, api_client):
        assert api_client.get(FEED, {"followed": "true"}).status_code == 401


class TestPosting:
    def test_a_json_post_goes_on_the_record_and_tells_who_it_mentions(self, as_actor, rep, clerk, customer):
        response = as_actor("rep").post(POSTS, {"target": key(customer), "body": "@clerk please check the terms"})

        assert response.status_code == 201, response.json()
        item = FeedItem.objects.get(pk=response.json()["id"])
        assert (item.kind, item.body, item.target) == ("post", "@clerk please check the terms", customer)
        assert clerk.notifications.get().kind == "mention"
        assert Follow.objects.filter(user=rep, target_id=customer.pk).exists()

    def test_a_multipart_post_carries_attachments_that_download(self, as_actor, customer):
        client = as_actor("rep")
        response = client.post(
            POSTS,
            {"target": key(customer), "body": "Signed terms", "files": [upload(), upload("prices.csv", b"a,b\n1,2\n")]},
            format="multipart",
        )

        assert response.status_code == 201, response.json()
        attachments = response.json()["attachments"]
        assert [(a["name"], a["size"]) for a in attachments] == [("terms.pdf", 14), ("prices.csv", 8)]
        download = client.get(attachments[0]["url"])
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == b"%PDF-1.4 terms"
        assert download["Content-Disposition"].startswith("attachment;")
        assert download["Content-Type"] == "application/octet-stream"

    def test_a_download_asked_for_as_bytes_still_gets_json_errors(self, as_actor, rep, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        response = as_actor("rep").get(item_url(item, "attachments/1/"), HTTP_ACCEPT="application/octet-stream")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    @pytest.mark.parametrize("body", ["", "   \n  "])
    def test_an_empty_post_is_refused_and_nothing_is_posted(self, as_actor, customer, body):
        before = counts()
        response = as_actor("rep").post(POSTS, {"target": key(customer), "body": body})
        assert response.status_code == 400
        assert error_of(response)["fields"]["body"] == ["Write something to post."]
        assert nothing_changed(before)

    @pytest.mark.parametrize(
        ("files", "message"),
        [
            ([upload("virus.exe", b"MZ")], "not a file type you can attach"),
            ([upload("page.html", b"<script>", "text/html")], "not a file type you can attach"),
            ([upload("noextension", b"data")], "not a file type you can attach"),
            ([upload("big.pdf", b"x" * 2048)], "attachments may be up to"),
            ([upload("empty.pdf", b"")], "is empty"),
            ([upload(f"f{n}.txt", b"x") for n in range(6)], "no more than 5"),
        ],
    )
    def test_a_bad_attachment_is_refused_and_nothing_is_posted(self, as_actor, customer, settings, files, message):
        settings.FEED_ATTACHMENT_MAX_BYTES = 1024
        before = counts()
        response = as_actor("rep").post(
            POSTS, {"target": key(customer), "body": "See attached", "files": files}, format="multipart"
        )
        assert response.status_code == 400, response.json()
        assert message in " ".join(error_of(response)["fields"]["files"])
        assert nothing_changed(before)

    @pytest.mark.parametrize(
        "body",
        [
            {"target": 12, "body": "Hello"},
            {"target": {"type": "crm.customer", "id": 1}, "body": "Hello"},
            {"target": ["crm.customer:1"], "body": "Hello"},
            {"target": "CUSTOMER", "body": 5},
            {"target": "CUSTOMER", "body": {"text": "Hello"}},
            {"target": "CUSTOMER", "body": None},
            {"target": "CUSTOMER"},
            {"target": "CUSTOMER", "body": "x" * 5001},
            {"target": "CUSTOMER", "body": "Hello", "files": ["not a file"]},
        ],
    )
    def test_wrong_types_and_shapes_are_400s_that_post_nothing(self, as_actor, customer, body):
        body = {name: (key(customer) if value == "CUSTOMER" else value) for name, value in body.items()}
        before = counts()
        response = as_actor("rep").post(POSTS, body, format="json")
        assert response.status_code == 400, response.json()
        assert error_of(response)["code"] == "validation_error"
        assert nothing_changed(before)

    def test_deeply_nested_json_is_a_400(self, as_actor):
        response = as_actor("rep").post(POSTS, "[" * 100_000, content_type="application/json")
        assert response.status_code == 400
        assert error_of(response)["code"] == "parse_error"

    def test_a_form_body_is_refused_on_other_writes(self, as_actor, rep, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        response = as_actor("rep").post(item_url(item, "comments/"), {"body": "Hi"}, format="multipart")
        assert response.status_code == 415

    def test_a_read_only_token_cannot_post_comment_like_or_follow(self, as_actor, rep, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        client = as_actor("rep", scope="read")
        before = counts()
        for response in (
            client.post(POSTS, {"target": key(customer), "body": "Hi"}),
            client.post(item_url(item, "comments/"), {"body": "Hi"}),
            client.post(item_url(item, "like/")),
            client.delete(item_url(item, "like/")),
            client.post(FOLLOWS, {"target": key(customer)}),
            client.delete(f"{FOLLOWS}{Follow.objects.get(user=rep).pk}/"),
        ):
            assert response.status_code == 403
            assert "read-only" in error_of(response)["message"]
        assert nothing_changed(before)
        assert client.get(FEED, {"target": key(customer)}).status_code == 200


class TestCommentsAndLikes:
    def test_comments_are_listed_oldest_first_and_counted(self, as_actor, rep, clerk, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        client = as_actor("clerk")

        for text in ("First", "Second @rep"):
            response = client.post(item_url(item, "comments/"), {"body": text})
            assert response.status_code == 201, response.json()
        assert response.json()["author"]["id"] == clerk.pk

        assert [c["body"] for c in results(client.get(item_url(item, "comments/")))] == ["First", "Second @rep"]
        assert client.get(item_url(item)).json()["comment_count"] == 2
        assert rep.notifications.filter(kind="mention").count() == 1

    @pytest.mark.parametrize("body", [{"body": ""}, {"body": "  "}, {"body": 1}, {}, {"body": ["Hi"]}])
    def test_an_empty_or_malformed_comment_is_refused(self, as_actor, rep, customer, body):
        item = services.post(target=customer, by=rep, body="Hello")
        response = as_actor("rep").post(item_url(item, "comments/"), body, format="json")
        assert response.status_code == 400
        assert "body" in error_of(response)["fields"]
        assert not Comment.objects.exists()

    def test_like_and_unlike_are_idempotent(self, as_actor, rep, customer):
        item = services.post(target=customer, by=rep, body="Hello")
        client = as_actor("clerk")

        assert client.post(item_url(item, "like/")).json() == {"liked": True, "like_count": 1}
        assert client.post(item_url(item, "like/")).json() == {"liked": True, "like_count": 1}
        assert as_actor("rep").post(item_url(item, "like/")).json() == {"liked": True, "like_count": 2}
        assert client.delete(item_url(item, "like/")).json() == {"liked": False, "like_count": 1}
        assert client.delete(item_url(item, "like/")).json() == {"liked": False, "like_count": 1}
        assert client.get(item_url(item)).json()["liked"] is False


class TestFollows:
    def test_follow_list_and_unfollow(self, as_actor, clerk, rep, customer):
        client = as_actor("clerk")

        created = client.post(FOLLOWS, {"target": key(customer)})
        assert created.status_code == 201, created.json()
        assert created.json()["target"]["label"] == customer.name
        assert client.post(FOLLOWS, {"target": key(customer)}).status_code == 200
        person = client.post(FOLLOWS, {"target": key(rep)})
        assert person.status_code == 201
        assert person.json()["target"]["label"] == "Rita Rep"

        listed = results(client.get(FOLLOWS))
        assert [(row["target"]["type"], row["target"]["id"]) for row in listed] == [
            ("accounts.user", rep.pk),
            ("crm.customer", customer.pk),
        ]
        assert client.delete(f"{FOLLOWS}{created.json()['id']}/").status_code == 204
        assert not Follow.objects.filter(user=clerk, target_id=customer.pk, target_type__model="customer").exists()

    def test_someone_elses_follow_is_a_404(self, as_actor, rep, customer):
        collaboration.follow(rep, customer)
        follow = Follow.objects.get(user=rep)
        assert as_actor("clerk").delete(f"{FOLLOWS}{follow.pk}/").status_code == 404
        assert Follow.objects.filter(pk=follow.pk).exists()

    def test_following_what_you_may_not_see_is_refused(self, as_actor, customer, only_owners_see_customers):
        response = as_actor("other_rep").post(FOLLOWS, {"target": key(customer)})
        assert response.status_code == 400
        assert not Follow.objects.filter(target_id=customer.pk, target_type__model="customer").exists()


class TestQueryCounts:
    """A page of the feed costs the same number of queries for 2 items as for 50,
    with comments, likes, attachments, mentions and several actors."""

    def make_items(self, n, customer, people):
        for i in range(n):
            author = people[i % len(people)]
            item = services.post(
                target=customer, by=author, body=f"Note {i} @{people[(i + 1) % len(people)].username}", files=[upload()]
            )
            services.comment(item=item, by=people[(i + 2) % len(people)], body="Seen")
            services.like(item=item, by=people[(i + 1) % len(people)])

    def count(self, client, params, django_assert_num_queries, expected=None):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = client.get(FEED, params)
        assert response.status_code == 200
        return len(queries), len(response.json()["results"])

    @pytest.mark.parametrize("feed", ["record", "mine"])
    def test_a_page_of_50_costs_what_a_page_of_2_costs(
        self, as_actor, rep, clerk, sales_manager, customer, django_assert_num_queries, feed
    ):
        people = [rep, clerk, sales_manager]
        client = as_actor("clerk")
        params = {"target": key(customer)} if feed == "record" else {"followed": "true"}
        self.make_items(2, customer, people)
        client.get(FEED, params)  # warm the per-process caches (content types)
        few, shown = self.count(client, params, django_assert_num_queries)
        assert shown == 2
        self.make_items(48, customer, people)
        many, shown = self.count(client, params, django_assert_num_queries)
        assert shown == 50
        assert many == few
        assert few <= 10


class TestSchema:
    OPERATIONS = {
        ("/api/v1/feed/", "get"),
        ("/api/v1/feed/{id}/", "get"),
        ("/api/v1/feed/posts/", "post"),
        ("/api/v1/feed/{id}/comments/", "get"),
        ("/api/v1/feed/{id}/comments/", "post"),
        ("/api/v1/feed/{id}/like/", "post"),
        ("/api/v1/feed/{id}/like/", "delete"),
        ("/api/v1/feed/{id}/attachments/{attachment_id}/", "get"),
        ("/api/v1/follows/", "get"),
        ("/api/v1/follows/", "post"),
        ("/api/v1/follows/{id}/", "delete"),
        ("/api/v1/notifications/", "get"),
        ("/api/v1/notifications/{id}/", "get"),
        ("/api/v1/notifications/{id}/read/", "post"),
        ("/api/v1/notifications/read-all/", "post"),
        ("/api/v1/approvals/", "get"),
        ("/api/v1/approvals/", "post"),
        ("/api/v1/approvals/{id}/", "get"),
        ("/api/v1/approvals/{id}/approve/", "post"),
        ("/api/v1/approvals/{id}/reject/", "post"),
    }

    @pytest.fixture
    def api_schema(self, api_client):
        return yaml.safe_load(api_client.get("/api/schema/").content)

    def test_every_operation_is_documented_with_a_summary_a_tag_and_the_error_shape(self, api_schema):
        documented = {(path, method) for path, ops in api_schema["paths"].items() for method in ops}
        assert documented >= self.OPERATIONS
        for path, method in self.OPERATIONS:
            operation = api_schema["paths"][path][method]
            assert operation["summary"], (path, method)
            assert operation["tags"][0] in {"feed", "follows", "notifications", "approvals"}
            for code in ("401", "403", "406", "429"):
                assert operation["responses"][code]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }
            if "{" in path:
                assert "404" in operation["responses"], (path, method)

    def test_each_write_documents_one_body_type_and_posts_take_files(self, api_schema):
        for path, method in self.OPERATIONS:
            body = api_schema["paths"][path][method].get("requestBody")
            if body is not None:
                assert len(body["content"]) == 1, (path, method)  # what generated clients handle
        post = api_schema["paths"]["/api/v1/feed/posts/"]["post"]["requestBody"]["content"]
        assert list(post) == ["multipart/form-data"]

    def test_conflicts_are_documented_where_they_happen(self, api_schema):
        for path in ("/api/v1/approvals/", "/api/v1/approvals/{id}/approve/", "/api/v1/approvals/{id}/reject/"):
            assert "409" in api_schema["paths"][path]["post"]["responses"]

    def test_the_target_parameter_documents_its_form(self, api_schema):
        parameters = {p["name"]: p for p in api_schema["paths"]["/api/v1/feed/"]["get"]["parameters"]}
        assert parameters["target"]["schema"]["pattern"].startswith("^[a-z]")
        assert parameters["followed"]["schema"]["type"] == "boolean"
        assert set(parameters["kind"]["schema"].get("enum", [])) | {"x"} >= {"post", "event", "change"} or (
            "$ref" in parameters["kind"]["schema"]
        )
