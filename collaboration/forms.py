"""The feed's forms: the composer (text and files) and a comment box. They only carry
what was typed; the rules (empty post, length, attachment size and type) live in
collaboration.services, whose ValidationError lands on these forms' fields."""

from django import forms
from django.conf import settings


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; the services check each."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(upload, initial) for upload in files]


class PostForm(forms.Form):
    body = forms.CharField(
        label="Write a post",
        required=False,  # the service says "Write something to post." — one message everywhere
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "id": "feed-body"}),
    )
    files = MultipleFileField(label="Attach files", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = ", ".join(sorted(settings.FEED_ATTACHMENT_TYPES))
        self.fields["files"].help_text = (
            f"Up to {settings.FEED_ATTACHMENTS_PER_POST} files of up to "
            f"{settings.FEED_ATTACHMENT_MAX_BYTES / 1_048_576:.0f} MB each ({types})."
        )
        self.fields["files"].widget.attrs["accept"] = ",".join(f".{t}" for t in sorted(settings.FEED_ATTACHMENT_TYPES))


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Write a comment", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 1})
    )
