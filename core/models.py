"""The shared kit's own records: rendered documents, number sequences, emails sent once.

None of them knows a Concord app: a Document belongs to any record through a generic
relation, a Sequence is keyed by a series name, a SentEmail by a key its sender makes.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import storages
from django.db import models


def document_storage():
    """The storage documents are kept in (settings.DOCUMENT_STORAGE names one of
    STORAGES): a local directory by default, S3 through django-storages in production."""
    return storages[getattr(settings, "DOCUMENT_STORAGE", "default")]


class Document(models.Model):
    """A PDF rendered from a record (a quote, an invoice, a dunning letter) by
    core.documents: one current document per record and kind. Pages poll its status;
    the download streams the stored file, which is never rendered twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be rendered"
        RENDERING = "rendering", "Rendering"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    owner = GenericForeignKey("content_type", "object_id")
    # The key the kind was registered under (core.documents.register), e.g. "crm.quote".
    kind = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(storage=document_storage, max_length=255, blank=True)
    # What the download is called, e.g. "Q-2026-000012.pdf".
    filename = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    # Each claim by a render counts one; the count is also the claim's token, so a
    # render that was overtaken (the record changed, a stale claim was taken over)
    # cannot mark the document ready with what it rendered.
    attempts = models.PositiveIntegerField(default=0)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "kind"], name="core_document_one_per_kind")
        ]

    def __str__(self):
        return self.filename or f"{self.kind} {self.object_id}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_failed(self) -> bool:
        return self.status == self.Status.FAILED

    @property
    def is_waiting(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RENDERING)


class Sequence(models.Model):
    """The last number given in a series and year (core.numbering): quotes "Q",
    invoices "INV". Locked while a number is taken, so numbers are gapless."""

    key = models.CharField(max_length=30)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "year"], name="core_sequence_key_year")]

    def __str__(self):
        return f"{self.key}-{self.year}: {self.last}"


class SentEmail(models.Model):
    """An email that was sent (or is being sent) once under `key` (core.mail.send_once):
    a task run twice, or retried after a crash elsewhere, never sends it again."""

    key = models.CharField(max_length=200, unique=True)
    to = models.CharField(max_length=500)
    subject = models.CharField(max_length=300)
    sent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.key
