"""The administrator's jobs page (/admin/jobs): every periodic job kind with its last
run, last success, failures and last error, and the queues with what waits in them;
`flask worker --until-idle` fills it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from community.core.jobs import PeriodicJob, periodic_jobs
from community.residents.imports.models import ImportJob

KINDS = {
    "send-reminders",
    "send-outbox",
    "close-duties",
    "purge-expired",
    "rebuild-rollups",
    "mediation-overdue",
}


def test_every_periodic_job_of_the_issue_is_registered():
    assert {job.kind for job in periodic_jobs()} == KINDS


def test_the_page_shows_each_kind_its_failures_and_the_import_queue(
    app, client, login_as, session, count_queries
):
    user = login_as("admin")
    session.add(
        PeriodicJob(
            kind="send-outbox",
            next_run_at=datetime(2026, 12, 7, 3, 1),
            last_run_at=datetime(2026, 12, 7, 3, 0),
            last_success_at=datetime(2026, 12, 7, 2, 0),
            last_failure_at=datetime(2026, 12, 7, 3, 0),
            last_error="SendError: the provider answered isv.BUSINESS_LIMIT_CONTROL",
            failures=3,
            runs=9,
        )
    )
    for status in ("queued", "running", "done", "failed"):
        session.add(ImportJob(user_id=user["id"], filename="a.csv", path="x", status=status))
    session.commit()
    with count_queries() as queries:
        resp = client.get("/admin/jobs")
    assert resp.status_code == 200
    # The user, the rows of periodic_job, one COUNT per queue: whatever the history.
    assert queries.count <= 8, queries.count
    page = resp.get_data(as_text=True)
    for kind in KINDS:
        assert f'id="job-{kind}"' in page
    row = page.split('id="job-send-outbox"')[1].split("</tr>")[0]
    # Times in the local zone (Asia/Shanghai, UTC+8).
    assert "2026-12-07 11:00" in row and "2026-12-07 10:00" in row and "2026-12-07 11:01" in row
    assert ">3<" in row and "isv.BUSINESS_LIMIT_CONTROL" in row
    never = page.split('id="job-close-duties"')[1].split("</tr>")[0]
    assert "not yet" in never and "when a worker starts" in never
    queue = page.split('id="queue-imports"')[1].split("</tr>")[0]
    assert '"Waiting or running">2</td>' in queue  # queued and running; not done or failed
    assert 'href="/admin/jobs"' in page  # in the administrator's navigation


def test_a_worker_run_records_every_kind(app, client, login_as, session):
    result = app.test_cli_runner().invoke(args=["worker", "--until-idle"])
    assert result.exit_code == 0, result.output
    assert "worker: queues imports; jobs close-duties" in result.output
    rows = {r.kind: r for r in session.scalars(select(PeriodicJob))}
    assert KINDS <= set(rows)
    for kind in KINDS:
        row = rows[kind]
        assert row.last_run_at and row.last_success_at == row.last_run_at, (kind, row.last_error)
        assert row.runner is None and row.next_run_at > row.last_run_at
    login_as("admin")
    page = client.get("/admin/jobs").get_data(as_text=True)
    periodic = page.split('data-testid="periodic-jobs"')[1].split("</table>")[0]
    assert "not yet" not in periodic  # the import queue had nothing to do: not yet


def test_a_queue_step_that_fails_is_noted_with_its_error_and_the_worker_goes_on(
    app, client, login_as, session, monkeypatch, caplog
):
    from community.core import jobs

    calls = []

    def step(s):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("a broken row\nwith a second line")
        return len(calls) < 3

    monkeypatch.setitem(jobs._QUEUES, "imports", jobs.Queue("imports", step, lambda s: 7, "x"))
    assert jobs.run_queues(session) is False  # failed: noted, rolled back, no exception
    row = session.get(PeriodicJob, "imports")
    assert (row.failures, row.last_error, row.last_success_at) == (
        1,
        "ValueError: a broken row",
        None,
    )
    assert "queue imports: step failed" in caplog.text
    assert jobs.run_queues(session) is True
    session.refresh(row)
    assert (row.failures, row.last_error, row.runs) == (0, None, 2)
    assert row.last_success_at == row.last_run_at
    assert jobs.run_queues(session) is False  # nothing to do: nothing noted
    session.refresh(row)
    assert row.runs == 2
    login_as("admin")
    page = client.get("/admin/jobs").get_data(as_text=True)
    queue = page.split('id="queue-imports"')[1].split("</tr>")[0]
    assert '"Waiting or running">7</td>' in queue and "not yet" not in queue


def test_the_worker_s_settings_come_from_the_environment():
    """WORKER_POLL_SECONDS, IMPORT_CHUNK_ROWS and JOB_PERIODS, read by a fresh process."""
    import os
    import subprocess
    import sys
    from datetime import timedelta

    from community.core.jobs import period_of

    env = {
        **os.environ,
        "WORKER_POLL_SECONDS": "7",
        "IMPORT_CHUNK_ROWS": "500",
        "JOB_PERIODS": "send-outbox=30, purge-expired=7200",
    }
    code = (
        "from community.config import Config as C;"
        "print(C.WORKER_POLL_SECONDS, C.IMPORT_CHUNK_ROWS, sorted(C.JOB_PERIODS.items()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "7 500 [('purge-expired', 7200), ('send-outbox', 30)]"
    outbox = next(j for j in periodic_jobs() if j.kind == "send-outbox")
    assert period_of(outbox, {"JOB_PERIODS": {"send-outbox": 30}}) == timedelta(seconds=30)
    assert period_of(outbox, {}) == timedelta(minutes=1)
