"""The document pipeline: a record → an HTML template → a WeasyPrint PDF → storage.

Quotes, invoices, credit notes, statements and dunning letters all go through it.
An app registers each kind of document once (in its AppConfig.ready):

    documents.register(
        "crm.quote",
        template="crm/documents/quote.html",       # extends core/documents/base.html
        context=lambda quote: {"quote": quote},    # what the template needs
        filename=lambda quote: f"{quote.number}.pdf",
        can_view=lambda user, quote: user.has_perm("crm.view_quote"),
    )

and asks for a record's document with `request_document(owner, "crm.quote")`: one
core.models.Document per record and kind, rendered by the `core.tasks.render_document`
Celery task after the asking transaction commits. Pages show its state with
`{% load documents %}{% document_status document %}`, a partial that polls while
pending and offers the download (core:document_download) or, failed, a retry.

Rendering is idempotent: a run claims the row with a conditional UPDATE (pending or
failed → rendering), so a second run of the task (a duplicate delivery, a retry) finds
nothing to do and a ready document is never rendered again. Emails attach the stored
file (`document_pdf_bytes`), never a new rendering.

The renderer never fetches a URL: LocalFilesFetcher serves files under the static
directories (and data: URIs) and refuses everything else. Fonts are the system's
(DejaVu, through fontconfig).
"""

import hashlib
import logging
import mimetypes
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Document, document_storage

logger = logging.getLogger(__name__)

__all__ = [
    "Document",
    "DocumentNotReady",
    "document_for",
    "document_pdf_bytes",
    "email_document",
    "register",
    "render",
    "render_html",
    "render_pdf",
    "request_document",
    "retry_document",
]

# A claim older than this is taken over: the worker that held it died (the task's
# hard time limit has passed by then), so the document would otherwise wait for ever.
STALE_CLAIM = timedelta(seconds=getattr(settings, "CELERY_TASK_TIME_LIMIT", 300) + 60)
ERROR_MAX_CHARS = 2000


class DocumentNotReady(Exception):
    """The document is not rendered (yet): its status says why."""


@dataclass(frozen=True)
class DocumentKind:
    key: str
    template: str
    context: Callable[[Any], dict]
    filename: Callable[[Any], str]
    can_view: Callable[[Any, Any], bool]
    can_retry: Callable[[Any, Any], bool]


KINDS: dict[str, DocumentKind] = {}


def register(
    kind: str,
    *,
    template: str,
    context: Callable[[Any], dict],
    filename: Callable[[Any], str],
    can_view: Callable[[Any, Any], bool],
    can_retry: Callable[[Any, Any], bool] | None = None,
) -> DocumentKind:
    """Declare a kind of document. `context(owner)` gives the template's context,
    `filename(owner)` the download's name, `can_view(user, owner)` who may see the
    status and download it, `can_retry(user, owner)` who may retry a failed rendering
    (whoever may view it, unless given)."""
    KINDS[kind] = DocumentKind(
        key=kind,
        template=template,
        context=context,
        filename=filename,
        can_view=can_view,
        can_retry=can_retry or can_view,
    )
    return KINDS[kind]


def get_kind(kind: str) -> DocumentKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise LookupError(f"No document kind {kind!r} is registered (core.documents.register).") from None


# --- Asking for a document -------------------------------------------------------------


def document_for(owner, kind: str) -> Document | None:
    """The record's current document of `kind`, or None if none was asked for."""
    return Document.objects.filter(
        content_type=ContentType.objects.get_for_model(owner), object_id=owner.pk, kind=kind
    ).first()


def _enqueue(document_id: int) -> None:
    from .tasks import render_document  # the task module imports this one

    transaction.on_commit(lambda: render_document.delay(document_id))


@transaction.atomic
def request_document(owner, kind: str, *, refresh: bool = False) -> Document:
    """The record's document of `kind`, created pending and queued for rendering (after
    this transaction commits) when there is none. `refresh=True` renders it anew: for a
    record that changed while it may still change (a draft quote), never for an issued one."""
    spec = get_kind(kind)
    document, created = Document.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(owner),
        object_id=owner.pk,
        kind=kind,
        defaults={"filename": spec.filename(owner), "requested_at": timezone.now()},
    )
    if created:
        _enqueue(document.pk)
        return document
    if refresh:
        old_file = document.file.name
        # A render in flight finishes into the void: its claim token (attempts) no
        # longer matches once this run's task claims the row, nor does its status now.
        Document.objects.filter(pk=document.pk).update(
            status=Document.Status.PENDING,
            file="",
            size=None,
            sha256="",
            error="",
            filename=spec.filename(owner),
            requested_at=timezone.now(),
        )
        if old_file:
            transaction.on_commit(lambda: document_storage().delete(old_file))
        _enqueue(document.pk)
        document.refresh_from_db()
    return document


@transaction.atomic
def retry_document(document: Document) -> Document:
    """Queue a failed document for rendering again (the status partial's Retry button)."""
    if Document.objects.filter(pk=document.pk, status=Document.Status.FAILED).update(
        status=Document.Status.PENDING, error="", requested_at=timezone.now()
    ):
        _enqueue(document.pk)
    document.refresh_from_db()
    return document


# --- Rendering -----------------------------------------------------------------------


def static_roots() -> list[Path]:
    """The directories the renderer may read: STATIC_ROOT and every static files
    directory the finders know (the project's and the apps')."""
    roots = [Path(settings.STATIC_ROOT)] if settings.STATIC_ROOT else []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location))
    return [root.resolve() for root in roots]


def static_file_uri(path: str) -> str:
    """A static file as the renderer reads it (a file: URI), e.g. for a logo:
    `{% load documents %}<img src="{% document_static 'concord/logo.png' %}">`."""
    found = finders.find(path)
    if not found:
        raise LookupError(f"No static file {path!r}.")
    return Path(found).resolve().as_uri()


def _weasyprint():
    import weasyprint  # ~0.75 s to import: only processes that render pay it

    return weasyprint


@lru_cache(maxsize=1)
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalFilesFetcher(URLFetcher):
        """Files under the static directories and data: URIs; every other URL (http,
        https, ftp, a file elsewhere on the disk) is refused, so neither a template nor
        a value typed into a record can make the renderer reach the network or read
        the server's other files."""

        def __init__(self):
            super().__init__(timeout=1, allow_redirects=False)
            self.roots = static_roots()

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme != "file":
                raise ValueError(f"Documents fetch no URL: {url!r} refused.")
            path = Path(unquote(parts.path)).resolve()
            if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
                raise ValueError(f"Documents read static files only: {url!r} refused.")
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), headers={"Content-Type": mime_type})

    return LocalFilesFetcher


def url_fetcher():
    """The renderer's url_fetcher: a LocalFilesFetcher (built on first use, as WeasyPrint
    is imported only by processes that render)."""
    return _fetcher_class()()


def render_html(kind: str, owner) -> str:
    spec = get_kind(kind)
    return render_to_string(spec.template, {"company": settings.COMPANY, **spec.context(owner)})


def base_url() -> str:
    """Relative URLs in documents resolve against the project's static directory."""
    return Path(settings.STATICFILES_DIRS[0]).resolve().as_uri() + "/"


def render_pdf(html: str) -> bytes:
    """HTML → PDF bytes, fetching nothing but local static files."""
    weasyprint = _weasyprint()
    return weasyprint.HTML(string=html, base_url=base_url(), url_fetcher=url_fetcher()).write_pdf()


def _path(document: Document) -> str:
    today = timezone.localdate()
    return f"documents/{document.kind}/{today:%Y}/{uuid.uuid4().hex}.pdf"


def render(document_id: int) -> Document | None:
    """Render the document if it is waiting (or failed, or its claim went stale) and
    store it; otherwise do nothing. What the render_document task runs. Returns the
    document as it is afterwards (None if it is gone)."""
    now = timezone.now()
    claimable = Q(status__in=[Document.Status.PENDING, Document.Status.FAILED]) | Q(
        status=Document.Status.RENDERING, started_at__lt=now - STALE_CLAIM
    )
    # The claim: one run moves the row to rendering; any other run stops here.
    claimed = (
        Document.objects.filter(claimable, pk=document_id)
        .order_by()
        .update(status=Document.Status.RENDERING, attempts=F("attempts") + 1, started_at=now, error="")
    )
    document = Document.objects.filter(pk=document_id).first()
    if not claimed or document is None:
        return document
    mine = Document.objects.filter(pk=document_id, status=Document.Status.RENDERING, attempts=document.attempts)
    try:
        owner = document.owner
        if owner is None:
            raise LookupError("The record this document belongs to no longer exists.")
        pdf = render_pdf(render_html(document.kind, owner))
        name = document_storage().save(_path(document), ContentFile(pdf))
    except Exception as error:
        logger.exception("Rendering document %s (%s) failed", document_id, document.kind)
        mine.update(status=Document.Status.FAILED, error=f"{type(error).__name__}: {error}"[:ERROR_MAX_CHARS])
    else:
        finished = mine.update(
            status=Document.Status.READY,
            file=name,
            size=len(pdf),
            sha256=hashlib.sha256(pdf).hexdigest(),
            rendered_at=timezone.now(),
        )
        if not finished:  # overtaken (refreshed meanwhile): what was rendered is out of date
            document_storage().delete(name)
    document.refresh_from_db()
    return document


# --- Reading the stored file -----------------------------------------------------------


def document_pdf_bytes(document: Document) -> bytes:
    """The stored PDF (for an email attachment): read, never rendered again."""
    if not document.is_ready or not document.file:
        raise DocumentNotReady(f"{document} is {document.get_status_display().lower()}.")
    with document.file.open("rb") as stored:
        return stored.read()


def ready_document(owner, kind: str) -> Document:
    """The record's document, rendered here and now if it is waiting and nobody else
    is rendering it (a task that needs the PDF, e.g. to email it). Raises
    DocumentNotReady while another worker renders it, or if rendering failed."""
    document = document_for(owner, kind) or request_document(owner, kind)
    if not document.is_ready:
        document = render(document.pk) or document
    if not document.is_ready:
        raise DocumentNotReady(f"{document} is {document.get_status_display().lower()}: {document.error}".rstrip(": "))
    return document


def email_document(
    owner, kind: str, *, key: str, to: str, subject: str, template: str, context: dict, reply_to: str = ""
) -> bool:
    """Email `owner`'s stored PDF of `kind` to `to`, once for `key` (core.mail.send_once):
    what the send tasks of quotes, invoices and statements run. The body is `template`
    rendered with `context`. Renders the PDF here only if no worker has; raises
    DocumentNotReady (the task retries) while another worker renders it."""
    from django.core.mail import EmailMessage

    from . import mail

    if mail.was_sent(key):
        return False
    document = ready_document(owner, kind)
    message = EmailMessage(
        subject=subject, body=render_to_string(template, context), to=[to], reply_to=[reply_to] if reply_to else None
    )
    message.attach(document.filename, document_pdf_bytes(document), "application/pdf")
    return mail.send_once(key=key, message=message)
