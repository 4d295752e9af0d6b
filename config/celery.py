"""The Celery app. Tasks live in each app's tasks.py and are found automatically.

Without REDIS_URL the settings make every task run eagerly, in-process, so the
embedded set-up needs no broker and no worker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("concord")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Tasks that are safe to run twice (the default here) are acknowledged only once
# they finished, and are redelivered if the worker process dies mid-task.
app.conf.task_acks_late = True
app.conf.task_reject_on_worker_lost = True
