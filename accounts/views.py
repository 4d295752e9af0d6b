"""Signing in and out, passwords, and a person's own API tokens.

The auth pages are Django's own views with Concord's templates; Django already
marks the signed-out ones (login, password reset) `login_not_required`.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core import formats
from core.client_ip import client_ip

from .forms import ApiTokenForm, PasswordResetForm, PreferencesForm
from .models import ApiToken
from .services import count_password_reset_request, create_api_token, revoke_api_token, update_preferences

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    # A signed-in person following an old link to /login/ goes where they meant to.
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # Added after the session is flushed, so it survives into the login page.
        messages.info(request, "You have been signed out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        client = client_ip(self.request)
        if not count_password_reset_request(email=form.cleaned_data["email"], client=client):
            # The same "if the address exists, we sent a mail" page as always, so the
            # limit reveals nothing about which addresses exist; only no mail leaves.
            logger.warning("Password-reset limit reached (client %s); no mail sent.", client)
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


def _token_list_page(request, form, *, status=200, created=None):
    tokens = ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at")
    context = {"form": form, "tokens": tokens, "created": created}
    return render(request, "accounts/token_list.html", context, status=status)


def token_list(request):
    """The signed-in person's tokens, with the form to create another."""
    return _token_list_page(request, ApiTokenForm())


@never_cache
@require_POST
def token_create(request):
    """Create a token and show its key on this response only.

    The key is rendered straight into the POST response rather than carried to a
    redirect, so it is never stored anywhere (not even in the session).
    """
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _token_list_page(request, form, status=400)
    try:
        token, key = create_api_token(user=request.user, **form.cleaned_data)
    except ValueError as error:
        form.add_error(None, str(error))
        return _token_list_page(request, form, status=400)
    return render(request, "accounts/token_created.html", {"token": token, "key": key})


@require_POST
def token_revoke(request, pk: int):
    # Only one's own tokens: someone else's id is indistinguishable from a missing one.
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if revoke_api_token(token=token):
        messages.success(request, f"Revoked “{token.name}”. Requests using that key now get 401.")
    else:
        messages.info(request, f"“{token.name}” was already revoked.")
    return redirect("token_list")


def preferences(request):
    """The signed-in person's format, time zone and notification email; there is no one else's to open."""
    user = request.user
    browser_locale = formats.negotiate(request.headers.get("Accept-Language", "")) or formats.company_locale()
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        initial={"locale": user.locale, "time_zone": user.time_zone, "email_notifications": user.email_notifications},
        browser_locale=browser_locale,
    )
    if form.is_valid():
        try:
            update_preferences(user=user, by=user, **form.cleaned_data)
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            chosen = form.cleaned_data
            messages.success(
                request,
                f"Preferences saved: {formats.describe(chosen['locale'] or browser_locale)}, "
                f"times in {chosen['time_zone'] or settings.TIME_ZONE}, "
                f"notification emails {'on' if chosen['email_notifications'] else 'off'}.",
            )
            return redirect("preferences")
    status = 400 if form.is_bound else 200
    return render(request, "accounts/preferences.html", {"form": form}, status=status)
