"""Running work in threads released together, for the race tests on PostgreSQL."""

import threading

from django.db import connections


def run_at_once(work, arguments) -> list:
    """Run work(*args) for each args in its own thread (its own connection), all
    released together; the outcomes (a result or the exception) in the order of
    `arguments`."""
    barrier = threading.Barrier(len(arguments))
    outcomes = [None] * len(arguments)

    def run(index, args):
        try:
            barrier.wait(timeout=60)
            outcomes[index] = work(*args)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, args)) for index, args in enumerate(arguments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    return outcomes
