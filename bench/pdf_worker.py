"""`python -m bench.pdf_worker <bench database> <invoice id>:<renders> …`

A fresh process that renders invoices the way a Celery worker does (core.documents:
request_document → the render task, eager → storage), for bench.billing's
invoice_pdf_memory: it prints one JSON line with its resident set after Django, the
Celery app and WeasyPrint are loaded, at its peak once every rendering is done, and
at the end, and the renderings' medians.

The peak is /proc's VmHWM, the high-water mark of this process's own address space:
getrusage's ru_maxrss would not do, as Linux carries it over from the parent through
fork and exec (a bench process holding a large seed would report its own size).
"""

import json
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def memory_mb(field: str) -> float:
    """A line of /proc/self/status in MB: VmRSS (resident now) or VmHWM (its peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    raise LookupError(f"no {field} in /proc/self/status")


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from django.db import connection, transaction

    connection.settings_dict["NAME"] = argv[0]  # the bench database, before the first query

    from billing.models import Invoice
    from billing.services import INVOICE_DOCUMENT
    from config.celery import app
    from core import documents
    from core.models import document_storage

    app.conf.task_always_eager = True
    documents._weasyprint()  # a worker that rendered before has it imported
    figures = {"ready_mb": round(memory_mb("VmHWM"), 1)}
    rendered = {}
    for name, spec in zip(("short", "long"), argv[1:], strict=False):
        invoice_id, renders = (int(part) for part in spec.split(":"))
        invoice = rendered[name] = Invoice.objects.get(pk=invoice_id)
        timings = []
        for _ in range(renders):
            old = documents.document_for(invoice, INVOICE_DOCUMENT)
            if old is not None:
                if old.file:
                    document_storage().delete(old.file.name)
                old.delete()
            started = time.perf_counter()
            with transaction.atomic():
                documents.request_document(invoice, INVOICE_DOCUMENT)
            timings.append((time.perf_counter() - started) * 1000)
            document = documents.document_for(invoice, INVOICE_DOCUMENT)
            if not document.is_ready:
                raise RuntimeError(f"document {document.status}: {document.error}")
        figures[f"{name}_p50_ms"] = round(statistics.median(timings), 1)
    figures["peak_mb"] = round(memory_mb("VmHWM"), 1)
    figures["rss_mb"] = round(memory_mb("VmRSS"), 1)
    for name, invoice in rendered.items():  # after the peak is read: laying out again costs memory too
        html = documents.render_html(INVOICE_DOCUMENT, invoice)
        figures[f"{name}_pages"] = len(documents._weasyprint().HTML(string=html).render().pages)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
