"""Two real gunicorn servers and a worker process on one database with
STORAGE_BACKEND=database, each with directories of its own: a photo reported through
server 1 is served by server 2, and an import uploaded through server 1 is run by a
worker process that shares nothing with it but the database (PostgreSQL when
TEST_DATABASE_URL is one, else a SQLite file)."""

from __future__ import annotations

import http.cookiejar
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from community.config import TestConfig
from tests.conftest import PASSWORD, csrf_from
from tests.factories.hazards import image_bytes
from tests.residents.scratch import import_rows, scratch_world
from tests.residents.test_imports import csv_bytes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: the servers commit for real."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(url: str, folder: Path) -> dict:
    drop = ("TEST_DATABASE_URL", "GUNICORN_", "WEB_CONCURRENCY", "PORT", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {
        **env,
        "DATABASE_URL": url,
        "SECRET_KEY": "storage-test",
        "COMMUNITY_DATA_KEY": TestConfig.COMMUNITY_DATA_KEY,
        "STORAGE_BACKEND": "database",
        "UPLOAD_DIR": str(folder / "uploads"),
        "IMPORT_DIR": str(folder / "imports"),
    }


class Browser:
    """A cookie-keeping HTTP client of one server, not following redirects."""

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

    def login(self, username: str) -> None:
        _s, _h, page = self.request("/login")
        token = csrf_from(page.decode())
        fields = {"username": username, "password": PASSWORD, "csrf_token": token}
        status, _h, _b = self.post("/login", fields)
        assert status == 303, status


def _serve(env: dict, port: int, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
            + ["--no-control-socket", "app:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_up(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.2)


WORKER = """
import sys
from community import create_app
from community.accounts.models import User
from community.extensions import db
from community.residents.imports import services
from community.residents.imports.models import ImportJob

app = create_app()
with app.app_context():
    job = db.session.get(ImportJob, int(sys.argv[1]))
    user = db.session.get(User, job.user_id)
    while job.is_running:
        services.run_step(db.session, user, job, size=10)
        db.session.commit()
    print(job.status, job.imported)
"""


def test_two_gunicorn_servers_and_a_worker_share_photos_and_imports(tmp_path):
    with scratch_world("storage_gunicorn", str(tmp_path / "imports0")) as (app, world):
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        ports = [_free_port(), _free_port()]
        folders = [tmp_path / "server1", tmp_path / "server2", tmp_path / "worker"]
        logs = [tmp_path / "server1.log", tmp_path / "server2.log"]
        procs = [_serve(_env(url, folders[i]), ports[i], logs[i]) for i in (0, 1)]
        try:
            one, two = (Browser(f"http://127.0.0.1:{p}") for p in ports)
            for browser, proc, log in zip((one, two), procs, logs, strict=True):
                _wait_up(browser.base, proc, log)
                browser.login(world.landlord)

            # A photo reported through server 1 ...
            _s, _h, page = one.request(f"/sites/{world.site_id}/hazards/new")
            html = page.decode()
            token = re.search(r'name="submission_token" type="hidden" value="([^"]+)"', html)
            photo = image_bytes("JPEG")
            fields = {
                "description": "Blocked exit",
                "severity": "high",
                "csrf_token": csrf_from(html),
                "submission_token": token.group(1),
                "photo": FileStorage(stream=io.BytesIO(photo), filename="exit.jpg"),
            }
            status, headers, _b = one.post(f"/sites/{world.site_id}/hazards/new", fields)
            assert status == 303, status
            hazard_path = urllib.parse.urlsplit(headers["Location"]).path
            # ... is served by server 2.
            status, headers, body = two.request(hazard_path + "/photo")
            assert status == 200 and headers["Content-Type"] == "image/jpeg"
            assert body[:2] == b"\xff\xd8" and int(headers["Content-Length"]) == len(body)
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert one.request(hazard_path + "/photo")[2] == body

            # An import uploaded through server 1 ...
            _s, _h, page = one.request("/residents/import")
            rows = import_rows(world.site_id, 25)
            rows.append([*rows[0][:4], "not-an-id-number", *rows[0][5:]])  # line 27: refused
            data = csv_bytes(rows)
            fields = {
                "csrf_token": csrf_from(page.decode()),
                "file": FileStorage(stream=io.BytesIO(data), filename="residents.csv"),
            }
            status, headers, _b = one.post("/residents/import", fields)
            assert status == 303, status
            job_id = re.search(r"/residents/import/(\d+)", headers["Location"]).group(1)
            # ... is run by a worker process with directories of its own.
            done = subprocess.run(
                [sys.executable, "-c", WORKER, job_id],
                cwd=ROOT,
                env=_env(url, folders[2]),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr[-2000:]
            assert done.stdout.split() == ["done", "25"], done.stdout
            # Server 2 shows the finished job and streams its refused rows.
            status, _h, body = two.request(f"/residents/import/{job_id}")
            assert status == 200 and b"25" in body
            status, headers, body = two.request(f"/residents/import/{job_id}/errors.csv")
            assert status == 200 and headers["Content-Type"].startswith("text/csv")
            lines = body.decode("utf-8-sig").splitlines()
            assert len(lines) == 2 and lines[1].startswith("27,id_number,"), lines
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
        # Nothing was written to any process's directories.
        assert not any(f.exists() and any(f.rglob("*")) for f in folders)
