"""A task travels through Redis to a real worker process, which sends its mail to
a real SMTP server (tests/smtp.py)."""

import pytest

from accounts.tasks import send_email

pytestmark = pytest.mark.worker


def test_a_task_runs_on_a_real_worker_through_redis_and_smtp(celery_worker_process):
    inbox = celery_worker_process
    inbox.clear()
    result = send_email.delay(
        subject="Worker check", body="Sent by a real worker.", to=["ops@concord.example"], html="<p>Sent.</p>"
    )
    result.get(timeout=30)  # raises if the task failed on the worker
    assert result.successful()

    (message,) = inbox.wait_for(1)
    assert message["Subject"] == "Worker check"
    assert message["X-Envelope-To"] == "ops@concord.example"
    assert message.get_body(("plain",)).get_content().strip() == "Sent by a real worker."
    assert message.get_body(("html",)).get_content().strip() == "<p>Sent.</p>"
