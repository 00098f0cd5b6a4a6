"""The administrator's jobs page (/admin/jobs): every periodic job kind with its last
run, last success, failures and last error, and the queues with what waits in them;
`flask worker --until-idle` fills it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from community.core.jobs import PeriodicJob, periodic_jobs
from community.residents.imports.models import ImportJob

KINDS = {"send-reminders", "send-outbox", "close-duties", "purge-expired", "rebuild-rollups"}


def test_every_periodic_job_of_the_issue_is_registered():
    assert {job.kind for job in periodic_jobs()} == KINDS


def test_the_page_shows_each_kind_its_failures_and_the_import_queue(app, client, login_as, session):
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
    resp = client.get("/admin/jobs")
    assert resp.status_code == 200
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
    assert ">2</td>" in queue  # queued and running; done and failed are not waiting
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
    assert "not yet" not in page
