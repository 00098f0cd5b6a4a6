"""The worker's queues run in-process, in the test's session, until they are idle:
what `flask worker` does between two polls (core.jobs.work), without its loop, so a
test sees any error a step raises."""

from __future__ import annotations

from community.core.jobs import queues
from community.extensions import db


def run_worker(limit: int = 10_000) -> int:
    """Steps of every queue until none has work (inside an app context); returns how
    many steps did work."""
    steps = 0
    while steps < limit:
        worked = [q.kind for q in queues() if q.step(db.session)]
        if not worked:
            return steps
        steps += len(worked)
    raise AssertionError(f"the queues still had work after {limit} steps")


def workers_in_threads(app, count: int, done, limit: float = 120) -> int:
    """`count` workers, each in a thread with its own app context (its own session and
    connection), stepping the queues at once (a barrier) until `done()` is true;
    returns the steps that did work, all workers together."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from community.core.jobs import run_queues

    barrier = threading.Barrier(count)
    deadline = time.monotonic() + limit

    def work(_n: int) -> int:
        steps = 0
        with app.app_context():
            barrier.wait()
            while not done() and time.monotonic() < deadline:
                steps += run_queues(db.session)
            db.session.remove()
        return steps

    with ThreadPoolExecutor(count) as pool:
        steps = sum(pool.map(work, range(count)))
    assert done(), "the workers did not finish in time"
    return steps
