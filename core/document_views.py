"""The pages every kind of document shares (core.documents): its status as a partial
that polls while the PDF is being made, the download of the stored file, and the retry
of a failed rendering. Who may see a document is asked of its kind (`can_view`)."""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import documents
from .models import Document

STATUS_TEMPLATE = "core/document_status.html"


def status_context(request, document: Document | None) -> dict:
    """What core/document_status.html needs (also used by {% document_status %})."""
    can_retry = False
    if document is not None and document.is_failed:
        spec = documents.KINDS.get(document.kind)
        owner = document.owner
        can_retry = bool(spec and owner and spec.can_retry(request.user, owner))
    return {"document": document, "can_retry": can_retry}


def _visible_document(request, pk: int) -> Document:
    document = get_object_or_404(Document, pk=pk)
    spec = documents.KINDS.get(document.kind)
    owner = document.owner
    if spec is None or owner is None:
        raise Http404("No such document.")
    if not spec.can_view(request.user, owner):
        raise PermissionDenied("You may not see this document.")
    return document


@never_cache
@require_GET
def document_status(request, pk: int):
    document = _visible_document(request, pk)
    return render(request, STATUS_TEMPLATE, status_context(request, document))


def pdf_response(document: Document) -> FileResponse:
    """The stored PDF, streamed as a download named after the document (an app's own
    download URL, e.g. crm:quote_pdf, checks access and calls this)."""
    if not document.is_ready or not document.file:
        raise Http404("The PDF is not ready yet.")
    response = FileResponse(
        document.file.open("rb"), as_attachment=True, filename=document.filename, content_type="application/pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def document_download(request, pk: int):
    """The stored PDF, streamed; 404 while it is not ready."""
    return pdf_response(_visible_document(request, pk))


@require_POST
def document_retry(request, pk: int):
    document = _visible_document(request, pk)
    if not documents.KINDS[document.kind].can_retry(request.user, document.owner):
        raise PermissionDenied("You may not retry this document.")
    document = documents.retry_document(document)
    if request.htmx:
        return render(request, STATUS_TEMPLATE, status_context(request, document))
    owner = document.owner
    return redirect(owner.get_absolute_url() if hasattr(owner, "get_absolute_url") else "home")
