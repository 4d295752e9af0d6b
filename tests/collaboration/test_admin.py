"""The admin reads the feed and decides approvals through collaboration.services;
nothing in it saves a feed row directly."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

import collaboration
from accounts.roles import SALES_MANAGER
from collaboration import registry, services
from collaboration.models import ApprovalRequest, FeedItem, Follow, Notification
from crm.models import Customer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KIND = "tests.admin_discount"


@pytest.fixture(autouse=True)
def approval_kind():
    registry.register_approval_kind(
        registry.ApprovalKind(
            key=KIND,
            label="Discount over 20%",
            model=Customer,
            approver_groups=(SALES_MANAGER,),
            approver_permission="crm.change_customer",
        )
    )
    yield
    registry.unregister_approval_kind(KIND)


@pytest.fixture
def pending(rep, customer):
    return services.request_approval(target=customer, kind=KIND, by=rep, reason="Renewal at 25% off")


@pytest.fixture
def post_item(rep, clerk, customer):
    return services.post(target=customer, by=rep, body="@clerk please check the terms")


@pytest.fixture
def staff_viewer(db):
    """Staff with every permission on the feed's models, but not an admin."""
    user = UserFactory(username="staffviewer", role=SALES_MANAGER)
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="collaboration"))
    return user


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def run_action(client, action, approvals):
    return client.post(
        reverse("admin:collaboration_approvalrequest_changelist"),
        {"action": action, "_selected_action": [a.pk for a in approvals]},
        follow=True,
    )


class TestPagesLoad:
    def test_every_list_and_detail_page_loads_for_the_admin(self, client, admin_user, post_item, pending):
        client.force_login(admin_user)
        follow = Follow.objects.first()
        notification = Notification.objects.first()
        for name, obj in [
            ("feeditem", post_item),
            ("approvalrequest", pending),
            ("notification", notification),
            ("follow", follow),
        ]:
            listing = client.get(reverse(f"admin:collaboration_{name}_changelist"))
            assert listing.status_code == 200, name
            detail = client.get(reverse(f"admin:collaboration_{name}_change", args=[obj.pk]))
            assert detail.status_code == 200, name

    def test_feed_items_filter_by_kind_and_verb_and_search_the_body(self, client, admin_user, post_item, rep, customer):
        collaboration.publish(customer, "invoice.issued", actor=rep)
        client.force_login(admin_user)
        url = reverse("admin:collaboration_feeditem_changelist")
        assert list(client.get(url, {"kind": "post"}).context["cl"].result_list) == [post_item]
        assert [i.verb for i in client.get(url, {"verb": "invoice.issued"}).context["cl"].result_list] == [
            "invoice.issued"
        ]
        assert list(client.get(url, {"q": "check the terms"}).context["cl"].result_list) == [post_item]

    def test_approvals_filter_by_status(self, client, admin_user, pending):
        client.force_login(admin_user)
        url = reverse("admin:collaboration_approvalrequest_changelist")
        assert list(client.get(url, {"status__exact": "pending"}).context["cl"].result_list) == [pending]
        assert list(client.get(url, {"status__exact": "approved"}).context["cl"].result_list) == []


class TestDirectSavesAreRefused:
    def test_feed_items_cannot_be_added_or_changed(self, client, admin_user, post_item):
        client.force_login(admin_user)
        assert client.get(reverse("admin:collaboration_feeditem_add")).status_code == 403
        url = reverse("admin:collaboration_feeditem_change", args=[post_item.pk])
        page = client.get(url)
        assert 'name="body"' not in page.text  # shown, not editable
        client.post(url, {"kind": "post", "verb": "post", "body": "rewritten"})
        post_item.refresh_from_db()
        assert post_item.body == "@clerk please check the terms"

    @pytest.mark.parametrize("name", ["notification", "follow"])
    def test_notifications_and_follows_are_read_only(self, client, admin_user, post_item, name):
        client.force_login(admin_user)
        assert client.get(reverse(f"admin:collaboration_{name}_add")).status_code == 403
        obj = (Notification if name == "notification" else Follow).objects.first()
        assert (
            client.post(reverse(f"admin:collaboration_{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code
            == 403
        )
        assert (Notification if name == "notification" else Follow).objects.filter(pk=obj.pk).exists()

    def test_an_approval_cannot_be_decided_by_saving_its_form(self, client, admin_user, pending):
        client.force_login(admin_user)
        url = reverse("admin:collaboration_approvalrequest_change", args=[pending.pk])
        page = client.get(url)
        assert 'name="status"' not in page.text
        assert 'name="_save"' not in page.text
        response = client.post(url, {"status": "approved"})
        assert response.status_code == 403
        pending.refresh_from_db()
        assert pending.status == ApprovalRequest.Status.PENDING

    def test_only_an_admin_may_delete_a_feed_item(self, client, admin_user, staff_viewer, post_item):
        url = reverse("admin:collaboration_feeditem_delete", args=[post_item.pk])
        client.force_login(staff_viewer)
        assert client.get(reverse("admin:collaboration_feeditem_changelist")).status_code == 200
        assert client.post(url, {"post": "yes"}).status_code == 403
        assert FeedItem.objects.filter(pk=post_item.pk).exists()

        client.force_login(admin_user)
        assert client.post(url, {"post": "yes"}).status_code == 302
        assert not FeedItem.objects.filter(pk=post_item.pk).exists()


class TestDecidingThroughTheAction:
    def test_approving_goes_through_the_service(self, client, admin_user, pending, rep):
        client.force_login(admin_user)
        response = run_action(client, "approve_requests", [pending])
        assert "1 request approved." in messages_of(response)
        pending.refresh_from_db()
        assert (pending.status, pending.decided_by) == (ApprovalRequest.Status.APPROVED, admin_user)
        # What the service does besides: the decision on the record's feed, the requester told.
        assert FeedItem.objects.filter(verb="approval.approved", target_id=pending.target_id).exists()
        assert Notification.objects.filter(user=rep, kind=Notification.Kind.APPROVAL_DECIDED).exists()

    def test_rejecting_goes_through_the_service(self, client, admin_user, pending):
        client.force_login(admin_user)
        run_action(client, "reject_requests", [pending])
        pending.refresh_from_db()
        assert pending.status == ApprovalRequest.Status.REJECTED
        assert pending.decision_comment == "Decided in the admin."

    def test_what_the_service_refuses_is_shown_as_a_message(self, client, admin_user, pending):
        client.force_login(admin_user)
        run_action(client, "approve_requests", [pending])
        response = run_action(client, "reject_requests", [pending])
        assert any("already approved" in m for m in messages_of(response))
        pending.refresh_from_db()
        assert pending.status == ApprovalRequest.Status.APPROVED

    def test_a_staff_approver_cannot_decide_their_own_request(self, client, staff_viewer, customer):
        own = services.request_approval(target=customer, kind=KIND, by=staff_viewer)
        client.force_login(staff_viewer)
        response = run_action(client, "approve_requests", [own])
        assert any("cannot decide your own request" in m for m in messages_of(response))
        own.refresh_from_db()
        assert own.status == ApprovalRequest.Status.PENDING
