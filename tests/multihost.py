"""Helpers of the tests that start real processes (gunicorn app servers, `flask
worker`, `make run`'s launcher) and drive them over HTTP as a browser would: free
ports, waiting for a condition, a Redis database of the test's own, a cookie-keeping
HTTP client, and the forms a user fills in (a hazard with its photo, a residents
import)."""

from __future__ import annotations

import http.cookiejar
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from community.config import TestConfig
from tests.conftest import PASSWORD, csrf_from
from tests.residents.scratch import import_rows
from tests.residents.test_imports import csv_bytes

ROOT = Path(__file__).resolve().parent.parent

# The commands the deployment files run (tests/test_deploy.py checks that the systemd
# units, compose.yaml and the Dockerfile say exactly these).
WEB = ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]
WORKER = ["flask", "--app", "app", "worker"]
MIGRATE = ["flask", "--app", "app", "db", "upgrade"]


def program(argv: list[str]) -> list[str]:
    """A deployment command with this virtualenv's program (as `/opt/community/.venv`)."""
    return [str(Path(sys.executable).parent / argv[0]), *argv[1:]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def until(check, seconds: float, what: str, every: float = 0.2):
    """check()'s first true answer within `seconds`; fails saying `what` did not happen."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"{what} within {seconds} s")


CLAIM = "community-test:claimed"  # the key marking a Redis database a test uses


def free_redis_db():
    """(client, number): an empty database of the Redis at 127.0.0.1:6379, claimed with
    a key set only if absent (the suites on SQLite and PostgreSQL run at once), for the
    test to flush after. Skips when Redis is not running, except in CI (CI=true), which
    runs one: there it fails."""
    redis = pytest.importorskip("redis")
    token = os.urandom(8).hex()
    for number in range(15, 0, -1):
        client = redis.Redis(host="127.0.0.1", port=6379, db=number, socket_timeout=2)
        try:
            claimed = client.dbsize() == 0 and client.set(CLAIM, token, nx=True, ex=6 * 3600)
            if claimed:
                return client, number
        except redis.ConnectionError:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail("Redis is not reachable at 127.0.0.1:6379; CI must test with it")
            pytest.skip("Redis is not running on 127.0.0.1:6379")
    pytest.skip("no empty Redis database to use")


class Browser:
    """A cookie-keeping HTTP client of one server, not following redirects, in English."""

    def __init__(self, base: str):
        self.base = base
        jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), NoRedirect()
        )

    def request(self, path: str, data: bytes | None = None, content_type: str | None = None):
        """(status, headers, body)."""
        req = urllib.request.Request(self.base + path, data=data)
        req.add_header("Accept-Language", "en")
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with self.opener.open(req, timeout=30) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.headers, exc.read()

    def post(self, path: str, fields: dict):
        boundary, body = encode_multipart(MultiDict(fields))
        return self.request(path, body, f"multipart/form-data; boundary={boundary}")

    def token(self, path: str) -> str:
        """The CSRF token of the page at `path`."""
        status, _h, page = self.request(path)
        assert status == 200, (path, status)
        return csrf_from(page.decode())

    def try_login(self, username: str, password: str = PASSWORD) -> int:
        """The status the login form answers (303 logged in, 401 refused, 429 throttled)."""
        fields = {"username": username, "password": password, "csrf_token": self.token("/login")}
        return self.post("/login", fields)[0]

    def login(self, username: str) -> None:
        status = self.try_login(username)
        assert status == 303, status


def report_hazard(browser: Browser, site_id: int, photo: bytes) -> str:
    """Report a hazard at the site with `photo` (a JPEG) through the form; returns the
    hazard's path."""
    _s, _h, page = browser.request(f"/sites/{site_id}/hazards/new")
    html = page.decode()
    token = re.search(r'name="submission_token" type="hidden" value="([^"]+)"', html)
    fields = {
        "description": "Blocked exit",
        "severity": "high",
        "csrf_token": csrf_from(html),
        "submission_token": token.group(1),
        "photo": FileStorage(stream=io.BytesIO(photo), filename="exit.jpg"),
    }
    status, headers, _b = browser.post(f"/sites/{site_id}/hazards/new", fields)
    assert status == 303, status
    return urllib.parse.urlsplit(headers["Location"]).path


def upload_import(browser: Browser, data: bytes, filename: str = "residents.csv") -> int:
    """Upload a residents file on the import page; returns the job's id (the page
    the upload redirects to, not opened here)."""
    fields = {
        "csrf_token": browser.token("/residents/import"),
        "file": FileStorage(stream=io.BytesIO(data), filename=filename),
    }
    status, headers, _b = browser.post("/residents/import", fields)
    assert status == 303, status
    return int(re.search(r"/residents/import/(\d+)", headers["Location"]).group(1))


def shared_env(url: str, folder: Path, **settings: str) -> dict:
    """The environment of an app server or worker of a deployment on the database at
    `url` keeping its files there (STORAGE_BACKEND=database), with directories of its
    own under `folder` (which stay empty), and `settings`; none of this process's
    database, Redis or gunicorn settings."""
    drop = ("TEST_DATABASE_URL", "GUNICORN_", "WEB_CONCURRENCY", "PORT", "REDIS_URL")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(drop)},
        "DATABASE_URL": url,
        "SECRET_KEY": "shared-by-every-server",
        "COMMUNITY_DATA_KEY": TestConfig.COMMUNITY_DATA_KEY,
        "STORAGE_BACKEND": "database",
        "FLASK_DEBUG": "0",
        **folders(folder),
        **settings,
    }


def folders(folder: Path) -> dict:
    """UPLOAD_DIR and IMPORT_DIR of one process, under `folder`."""
    return {"UPLOAD_DIR": str(folder / "uploads"), "IMPORT_DIR": str(folder / "imports")}


def rows_with_a_refused_one(site_id: int, n: int, first: int = 0) -> bytes:
    """A residents CSV of `n` valid rows (scratch.import_rows) and, last (line n + 2),
    one refused for its ID number."""
    rows = import_rows(site_id, n, first)
    rows.append([*rows[0][:4], "not-an-id-number", *rows[0][5:]])
    return csv_bytes(rows)


def check_import_shown(browser: Browser, job_id: int, imported: int) -> None:
    """The job's page shows the rows imported, and its refused rows' report holds the
    one row rows_with_a_refused_one refuses."""
    status, _h, body = browser.request(f"/residents/import/{job_id}")
    assert status == 200 and str(imported).encode() in body
    status, headers, body = browser.request(f"/residents/import/{job_id}/errors.csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    lines = body.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"{imported + 2},id_number,"), lines


JOB = "SELECT status, done, total, imported, refused, runner FROM import_job WHERE id = :j"


def import_job(engine, job_id: int):
    """The import job's row: status, done, total, imported, refused, runner."""
    with engine.connect() as conn:
        return conn.execute(text(JOB), {"j": job_id}).one()


def ended_job(engine, job_id: int):
    """The job's row once it has ended (done or failed), else None."""
    job = import_job(engine, job_id)
    return job if job.status in ("done", "failed") else None


def residences(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM residence")).scalar()


def residences_twice(engine) -> list:
    """Residences written twice (one person, room and move-in day more than once)."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT person_id, room_id, move_in FROM residence"
                " GROUP BY person_id, room_id, move_in HAVING count(*) > 1"
            )
        ).all()


def serve(env: dict, port: int, log: Path) -> subprocess.Popen:
    """gunicorn (one worker) on `port`; its output goes to `log`."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
            + ["--no-control-socket", "app:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_up(base: str, proc: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    """Until the server at `base` answers /healthz; fails with its log's tail when it
    stops first or takes longer than `seconds` (a loaded 2-core machine takes tens of
    seconds to import the app)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.2)


class Processes:
    """Processes started for a test, each in a session of its own with its output in
    `<folder>/<name>.log`; stop() ends every one still running (SIGTERM to its group,
    SIGKILL after `grace` seconds)."""

    def __init__(self, folder: Path, env: dict):
        self.folder, self.env = folder, env
        self.running: dict[str, subprocess.Popen] = {}

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def start(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        with self.log(name).open("ab") as out:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env={**self.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running[name] = proc
        return proc

    def alive(self, name: str) -> subprocess.Popen:
        """The process, failing with its log's tail when it has ended."""
        proc = self.running[name]
        assert proc.poll() is None, f"{name} ended: {self.log(name).read_text()[-3000:]}"
        return proc

    def kill(self, name: str) -> None:
        """kill -9 the process and its children, as a crash or the OOM killer would."""
        proc = self.running.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self, grace: float = 15) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.running.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.running.clear()
