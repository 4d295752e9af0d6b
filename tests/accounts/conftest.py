import pytest


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process even when REDIS_URL points at a broker (as in CI)."""
    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
