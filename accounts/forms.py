"""Forms of the accounts pages: password reset by email, API tokens and preferences."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.template import loader

from core import formats
from core.forms import SearchableSelect

from .models import ApiToken
from .tasks import send_email


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's reset form, with the email sent by a Celery worker.

    The message is rendered here, while the user object is at hand, so the task
    receives plain strings (JSON-serializable) and is queued only once the request's
    transaction commits.
    """

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        html = loader.render_to_string(html_email_template_name, context) if html_email_template_name else None
        send_email.delay_on_commit(subject=subject, body=body, to=[to_email], html=html, from_email=from_email)


class ApiTokenForm(forms.Form):
    """What a person chooses for a new key; the key itself comes from create_api_token."""

    name = forms.CharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        error_messages={"required": "Give the key a name, e.g. the system that will use it."},
        help_text="What the key is for, e.g. “Accounting sync”, so you can tell your keys apart.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text="Read-only keys get 403 on any change. Give write access only to integrations that need it.",
    )


class PreferencesForm(forms.Form):
    """A person's format and time zone. Each format is shown in its own language with
    a sample ("Deutsch (Deutschland) — 04.12.2026 · 1.234,56") so people recognise it."""

    locale = forms.ChoiceField(
        label="Language and format",
        required=False,
        widget=SearchableSelect,
        help_text="How dates, times and amounts read for you. The interface stays in English.",
        error_messages={"invalid_choice": "Choose one of the listed formats."},
    )
    time_zone = forms.ChoiceField(
        required=False,
        widget=SearchableSelect,  # ~600 zones: typed to, not scrolled through
        help_text="Times are shown in this zone.",
        error_messages={"invalid_choice": "Choose one of the listed time zones, e.g. Europe/Berlin."},
    )
    email_notifications = forms.BooleanField(
        label="Email me mentions and approval requests",
        required=False,
        help_text="They always show under the bell; this also sends them to your email address.",
    )

    def __init__(self, *args, browser_locale: str, **kwargs):
        super().__init__(*args, **kwargs)
        automatic = f"Automatic — from your browser (currently: {formats.describe(browser_locale)})"
        self.fields["locale"].choices = [("", automatic)] + [
            (name, formats.describe(name)) for name in settings.FORMAT_LOCALES
        ]
        self.fields["time_zone"].choices = [("", f"Company default ({settings.TIME_ZONE})")] + [
            (name, name.replace("_", " ")) for name in sorted(formats.time_zones())
        ]
