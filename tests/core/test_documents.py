"""The document pipeline (core.documents): a record → HTML → PDF → storage, rendered
once by an idempotent task, polled by pages, downloaded as the stored file."""

import http.server
import subprocess
import threading

import pytest
from django.urls import reverse

from core import documents
from core.models import Document
from core.tasks import render_document

pytestmark = pytest.mark.django_db

KIND = "tests.letter"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def letter_kind():
    calls = {"context": 0, "fail": False}

    def context(customer):
        calls["context"] += 1
        if calls["fail"]:
            raise RuntimeError("the printer is on fire")
        return {"customer": customer}

    documents.register(
        KIND,
        template="core/documents/base.html",
        context=context,
        filename=lambda customer: f"letter-{customer.pk}.pdf",
        can_view=lambda user, customer: user.has_perm("crm.view_customer"),
        can_retry=lambda user, customer: user.username == "rep",
    )
    yield calls
    documents.KINDS.pop(KIND, None)


def pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_a_requested_document_is_rendered_after_commit_and_stored(
    letter_kind, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        document = documents.request_document(customer, KIND)
    document.refresh_from_db()
    assert document.status == Document.Status.READY
    assert document.filename == f"letter-{customer.pk}.pdf"
    assert document.file.name.startswith(f"documents/{KIND}/")
    data = documents.document_pdf_bytes(document)
    assert data.startswith(b"%PDF") and document.size == len(data) and len(document.sha256) == 64
    text = pdf_text(data)
    assert "Concord Demo GmbH" in text
    assert "Page 1 of 1" in text


def test_asking_twice_gives_the_same_document(letter_kind, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = documents.request_document(customer, KIND)
        second = documents.request_document(customer, KIND)
    assert first.pk == second.pk
    assert len(callbacks) == 1
    assert Document.objects.count() == 1


def test_the_task_run_twice_renders_once(letter_kind, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        document = documents.request_document(customer, KIND)
    render_document.delay(document.pk)
    document.refresh_from_db()
    stored = document.file.name
    render_document.delay(document.pk)
    document.refresh_from_db()
    assert letter_kind["context"] == 1
    assert (document.status, document.attempts, document.file.name) == ("ready", 1, stored)


def test_a_claimed_document_is_not_rendered_by_a_second_worker(letter_kind, customer):
    document = documents.request_document(customer, KIND)
    Document.objects.filter(pk=document.pk).update(status=Document.Status.RENDERING, started_at=document.requested_at)
    assert documents.render(document.pk).status == Document.Status.RENDERING
    assert letter_kind["context"] == 0


def test_a_failed_rendering_says_why_and_a_retry_renders_it(letter_kind, customer, django_capture_on_commit_callbacks):
    letter_kind["fail"] = True
    with django_capture_on_commit_callbacks(execute=True):
        document = documents.request_document(customer, KIND)
    document.refresh_from_db()
    assert document.status == Document.Status.FAILED
    assert "the printer is on fire" in document.error
    with pytest.raises(documents.DocumentNotReady):
        documents.document_pdf_bytes(document)
    letter_kind["fail"] = False
    with django_capture_on_commit_callbacks(execute=True):
        document = documents.retry_document(document)
    document.refresh_from_db()
    assert (document.status, document.error, document.attempts) == ("ready", "", 2)


def test_refreshing_renders_a_changed_record_anew(letter_kind, customer, django_capture_on_commit_callbacks, media):
    with django_capture_on_commit_callbacks(execute=True):
        document = documents.request_document(customer, KIND)
    document.refresh_from_db()
    old = media / document.file.name
    assert old.exists()
    with django_capture_on_commit_callbacks(execute=True):
        documents.request_document(customer, KIND, refresh=True)
    document.refresh_from_db()
    assert document.status == "ready" and letter_kind["context"] == 2
    assert not old.exists()


# --- The renderer fetches nothing ------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x.png", "https://example.com/x.css", "ftp://example.com/x", "file:///etc/passwd"]
)
def test_the_url_fetcher_refuses_urls_and_files_outside_the_static_directories(url):
    with pytest.raises(ValueError, match="refused"):
        documents.url_fetcher().fetch(url)


def test_the_url_fetcher_serves_static_files():
    response = documents.url_fetcher().fetch(documents.static_file_uri("icons/sprite.svg"))
    assert b"<svg" in response.read()


def test_rendering_never_reaches_the_network():
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        html = f'<link rel="stylesheet" href="{url}/x.css"><p>Hello</p><img src="{url}/logo.png">'
        assert documents.render_pdf(html).startswith(b"%PDF")
    finally:
        server.shutdown()
    assert hits == []


# --- The pages ---------------------------------------------------------------------------


@pytest.fixture
def ready(letter_kind, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        document = documents.request_document(customer, KIND)
    document.refresh_from_db()
    return document


def test_the_download_streams_the_stored_file_with_its_name(signed_in, ready):
    response = signed_in("clerk").get(reverse("core:document_download", args=[ready.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="letter-{ready.object_id}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == documents.document_pdf_bytes(ready)


def test_the_download_is_refused_to_whoever_may_not_see_the_record(signed_in, ready):
    assert signed_in("outsider").get(reverse("core:document_download", args=[ready.pk])).status_code == 403


def test_the_download_is_404_until_the_pdf_is_ready(signed_in, letter_kind, customer):
    document = documents.request_document(customer, KIND)  # not committed: still pending
    assert signed_in("rep").get(reverse("core:document_download", args=[document.pk])).status_code == 404


def test_the_status_partial_polls_while_pending_and_offers_the_download_when_ready(signed_in, letter_kind, customer):
    document = documents.request_document(customer, KIND)
    client = signed_in("rep")
    url = reverse("core:document_status", args=[document.pk])
    pending = client.get(url).content.decode()
    assert 'hx-trigger="every 1500ms"' in pending and "Making the PDF" in pending
    documents.render(document.pk)
    ready = client.get(url).content.decode()
    assert "hx-trigger" not in ready
    assert reverse("core:document_download", args=[document.pk]) in ready


def test_a_failed_document_offers_a_retry_to_whoever_may(
    signed_in, letter_kind, customer, django_capture_on_commit_callbacks
):
    letter_kind["fail"] = True
    document = documents.request_document(customer, KIND)
    documents.render(document.pk)
    url = reverse("core:document_status", args=[document.pk])
    assert "Retry" in signed_in("rep").get(url).content.decode()
    assert "Retry" not in signed_in("clerk").get(url).content.decode()
    assert signed_in("clerk").post(reverse("core:document_retry", args=[document.pk])).status_code == 403
    letter_kind["fail"] = False
    client = signed_in("rep")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("core:document_retry", args=[document.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    document.refresh_from_db()
    assert document.status == "ready"
