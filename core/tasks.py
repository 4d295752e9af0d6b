from celery import shared_task

from . import documents


@shared_task
def render_document(document_id: int) -> str | None:
    """Render a waiting document (core.documents.render). Safe to run twice: the
    second run finds the row claimed or ready and does nothing."""
    document = documents.render(document_id)
    return document.status if document is not None else None
