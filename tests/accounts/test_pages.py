"""Signing in and out, passwords, and the error pages."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.template import loader
from django.test import RequestFactory
from django.urls import reverse

from core import views as core_views

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's password


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password, **extra})


def signed_in_user_id(client):
    return client.session.get(SESSION_KEY)


class TestLogin:
    def test_the_login_page_is_a_card_with_username_password_and_a_way_to_recover(self, client, db):
        response = client.get(reverse("login"))
        assert response.status_code == 200
        page = response.content.decode()
        assert 'name="username"' in page and 'name="password"' in page
        assert ">Sign in</button>" in page
        assert "Forgot your password?" in page and reverse("password_reset") in page

    def test_the_right_password_signs_in_and_goes_home(self, client, rep):
        response = sign_in(client, "rep")
        assert response.status_code == 302 and response.url == reverse("home")
        assert signed_in_user_id(client) == str(rep.pk)

    def test_signing_in_returns_to_the_page_asked_for(self, client, rep):
        response = sign_in(client, "rep", next=reverse("token_list"))
        assert response.url == reverse("token_list")

    def test_a_wrong_password_shows_an_error_and_keeps_the_username(self, client, rep):
        response = sign_in(client, "rep", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
        assert 'value="rep"' in response.content.decode()
        assert signed_in_user_id(client) is None

    def test_a_signed_in_person_opening_the_login_page_goes_home(self, client, rep):
        client.force_login(rep)
        assert client.get(reverse("login")).url == reverse("home")

    def test_five_failed_attempts_pause_signing_in_and_say_what_to_do(self, client, rep, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, "rep", "wrong")
        response = sign_in(client, "rep")  # even the right password is refused now
        assert response.status_code == 429
        page = response.content.decode()
        assert "Sign-in paused" in page and "Wait 15 minutes" in page
        assert reverse("password_reset") in page
        assert signed_in_user_id(client) is None

    def test_four_failed_attempts_still_let_the_right_password_in(self, client, rep, settings):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in(client, "rep", "wrong")
        assert sign_in(client, "rep").status_code == 302


class TestLogout:
    def test_signing_out_ends_the_session_and_says_so(self, client, rep):
        client.force_login(rep)
        response = client.post(reverse("logout"), follow=True)
        assert signed_in_user_id(client) is None
        assert response.redirect_chain[-1][0] == reverse("login")
        assert "You have been signed out." in response.content.decode()

    def test_signing_out_needs_a_post(self, client, rep):
        # A link or an image tag must not be able to sign someone out.
        client.force_login(rep)
        assert client.get(reverse("logout")).status_code == 405
        assert signed_in_user_id(client) == str(rep.pk)


class TestPasswordChange:
    def test_a_person_changes_their_password_and_stays_signed_in(self, client, rep):
        client.force_login(rep)
        assert client.get(reverse("password_change")).status_code == 200
        response = client.post(
            reverse("password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": "Brand-new-pass-42",
                "new_password2": "Brand-new-pass-42",
            },
        )
        assert response.url == reverse("password_change_done")
        assert client.get(response.url).status_code == 200
        rep.refresh_from_db()
        assert rep.check_password("Brand-new-pass-42")

    def test_a_wrong_current_password_is_a_field_error(self, client, rep):
        client.force_login(rep)
        response = client.post(
            reverse("password_change"),
            {
                "old_password": "nope",
                "new_password1": "Brand-new-pass-42",
                "new_password2": "Brand-new-pass-42",
            },
        )
        assert response.status_code == 200
        assert "Your old password was entered incorrectly" in response.content.decode()


class TestPasswordReset:
    def test_a_reset_email_carries_a_link_that_sets_a_new_password(
        self, client, rep, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("password_reset"), {"email": rep.email})
        assert response.url == reverse("password_reset_done")
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == [rep.email]
        assert message.subject == "Reset your Concord password"

        link = re.search(r"https?://testserver(/password-reset/\S+/)", message.body).group(1)
        set_password_page = client.get(link, follow=True)
        assert "Choose a new password" in set_password_page.content.decode()
        form_url = set_password_page.redirect_chain[-1][0]
        response = client.post(form_url, {"new_password1": "Brand-new-pass-42", "new_password2": "Brand-new-pass-42"})
        assert response.url == reverse("password_reset_complete")
        assert sign_in(client, "rep", "Brand-new-pass-42").status_code == 302

    def test_the_email_reaches_a_real_smtp_server(self, client, rep, smtp_inbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("password_reset"), {"email": rep.email})
        (message,) = smtp_inbox.wait_for(1)
        assert message["To"] == rep.email and message["X-Envelope-To"] == rep.email
        assert message["Subject"] == "Reset your Concord password"
        assert re.search(r"/password-reset/\S+/", message.get_body(("plain",)).get_content())

    def test_the_email_is_sent_by_the_send_email_task_after_commit(
        self, client, rep, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            client.post(reverse("password_reset"), {"email": rep.email})
        assert len(mail.outbox) == 0 and len(callbacks) == 1

    def test_an_unknown_address_sends_nothing_and_reveals_nothing(self, client, db, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
        assert response.url == reverse("password_reset_done")
        assert mail.outbox == []

    def test_a_used_or_forged_link_says_to_ask_for_a_new_one(self, client, db):
        response = client.get(reverse("password_reset_confirm", args=["MQ", "forged-token"]))
        assert "This link no longer works" in response.content.decode()


@pytest.mark.parametrize("url_name", ["home", "token_list", "password_change"])
def test_pages_need_a_signed_in_person(client, db, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse(url_name)}"


@pytest.mark.parametrize("url_name", ["login", "password_reset", "password_reset_done", "password_reset_complete"])
def test_signed_out_pages_open_without_signing_in(client, db, url_name):
    assert client.get(reverse(url_name)).status_code == 200


class TestErrorPages:
    @pytest.fixture(autouse=True)
    def production_mode(self, settings):
        settings.DEBUG = False

    def test_a_missing_page_says_what_to_do_next(self, client, rep):
        client.force_login(rep)
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        page = response.content.decode()
        assert "We could not find that page" in page and "/no-such-page/" in page
        assert 'id="user-menu"' in page  # inside the signed-in shell

    def test_a_missing_page_renders_for_a_signed_out_visitor_too(self, client, db):
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        assert "We could not find that page" in response.content.decode()

    def test_a_refusal_shows_the_reason(self, rep):
        request = RequestFactory().get("/customers/1/edit/")
        request.user = rep
        response = core_views.permission_denied(
            request, PermissionDenied("Only finance managers change credit limits.")
        )
        assert response.status_code == 403
        page = response.content.decode()
        assert "You are not allowed to do that" in page and "Only finance managers change credit limits." in page

    def test_a_bad_request_says_to_try_again(self, rep):
        request = RequestFactory().get("/")
        request.user = rep
        response = core_views.bad_request(request, Exception())
        assert response.status_code == 400
        assert "Go back, reload the page and try again" in response.content.decode()

    def test_a_server_error_page_renders_without_any_context(self, db):
        response = core_views.server_error(RequestFactory().get("/"))
        assert response.status_code == 500
        assert "Something went wrong on our side" in response.content.decode()
        assert "Something went wrong on our side" in loader.get_template("500.html").render()
