"""A task travels through Redis to a real worker process and back."""

import time

import pytest

from accounts.tasks import send_email

pytestmark = pytest.mark.worker


def test_a_task_runs_on_a_real_worker_through_redis(celery_worker_process):
    result = send_email.delay(subject="Worker check", body="Sent by a real worker.", to=["ops@concord.example"])
    result.get(timeout=30)  # raises if the task failed on the worker
    assert result.successful()

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not list(celery_worker_process.glob("*.log")):
        time.sleep(0.1)
    sent = "".join(path.read_text() for path in celery_worker_process.glob("*.log"))
    assert "Subject: Worker check" in sent
    assert "ops@concord.example" in sent
