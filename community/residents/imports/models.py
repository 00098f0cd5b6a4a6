"""The web import's job: an uploaded spreadsheet processed a chunk per step by
`flask worker` (imports.jobs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from community.core.timeutil import utcnow
from community.extensions import db

IMPORT_STATES = ("queued", "running", "done", "failed")


class ImportJob(db.Model):
    """A spreadsheet uploaded on /residents/import, processed a chunk per step by a
    worker (imports.jobs, imports.services.run_step). `path` is the stored upload
    (a random name under IMPORT_DIR), `rows_path` the rows read from it (CSV, line
    number first) and `errors_path` the refused rows' problems (line, column, value
    masked where personal, reason); `done` counts processed rows."""

    __tablename__ = "import_job"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(255))
    rows_path: Mapped[str | None] = mapped_column(String(255))
    errors_path: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    message: Mapped[str | None] = mapped_column(String(500))
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    already: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # The claim on the next step (services.claim_step): the runner's token and since
    # when; both NULL while no runner holds it.
    runner: Mapped[str | None] = mapped_column(String(32))
    step_started_at: Mapped[datetime | None]
    # The uploader's language when they uploaded: the worker writes the refused rows'
    # reasons and a failure's message in it (None: the default language).
    locale: Mapped[str | None] = mapped_column(String(10))

    @property
    def is_running(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(100 * self.done / self.total) if self.total else 0
