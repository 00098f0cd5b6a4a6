"""Logs an operator can use (core/logs.py, gunicorn.conf.py): one line per request
with the route and never the path, the request id sent back and printed on the 500
page, no personal data in any record of every role's journey, the settings read
from the environment, and a real gunicorn writing exactly one access line a request."""

from __future__ import annotations

import json
import logging
import os
import re
import runpy
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Blueprint
from sqlalchemy import select

from community.accounts.models import ROLES
from community.config import TestConfig
from community.core import logs
from community.core.crypto import mask_id_number, mask_phone
from community.core.timeutil import today
from community.residents.models import Residence
from tests.conftest import PASSWORD, csrf_from
from tests.dbutil import main_url
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import id_number

ROOT = Path(__file__).resolve().parents[2]


class _Heard(logging.Handler):
    """Every record of every logger, as a line an operator would read (without the
    formatters' blanking of numbers: the app must not log them in the first place)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s [%(request_id)s] %(message)s"))

    def emit(self, record):
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def heard():
    """Listen to the root logger with `community` at DEBUG."""
    handler = _Heard()
    root, community = logging.getLogger(), logging.getLogger("community")
    level = community.level
    community.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        community.setLevel(level)


def _request_lines(handler: _Heard) -> list[logging.LogRecord]:
    return [r for r in handler.records if r.name == "community.request"]


# --- the request line and the request id ------------------------------------------


def test_the_request_line_names_the_route_status_duration_and_user_never_the_query(
    client, login_as, heard
):
    number = id_number()
    user = login_as("police")
    heard.records.clear()
    resp = client.get(f"/residents/?q={number}")
    assert resp.status_code == 200
    (line,) = _request_lines(heard)
    assert (line.method, line.route, line.status) == ("GET", "/residents/", 200)
    assert line.user_id == user["id"] and isinstance(line.duration_ms, int)
    assert line.request_id == resp.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{12}", line.request_id)
    assert line.getMessage() == f"GET /residents/ 200 {line.duration_ms}ms user={user['id']}"
    assert number not in "\n".join(heard.lines) and "q=" not in "\n".join(heard.lines)


def test_a_route_with_an_id_is_logged_by_its_rule_and_a_miss_by_a_dash(client, login_as, heard):
    login_as("admin")
    heard.records.clear()
    client.get("/sites/2147483647")
    client.get("/330302199001011234?q=13812345678")
    first, second = _request_lines(heard)
    assert (first.route, first.status) == ("/sites/<int:site_id>", 404)
    assert (second.route, second.status) == ("-", 404)
    assert "330302199001011234" not in "\n".join(heard.lines)


def test_a_visitor_is_logged_without_a_user(client, heard):
    client.get("/login")
    (line,) = _request_lines(heard)
    assert line.user_id is None and line.getMessage().endswith("user=-")


def test_a_sane_incoming_request_id_goes_round_trip(client, heard):
    resp = client.get("/login", headers={"X-Request-ID": "lb-7f3a.9_c"})
    assert resp.headers["X-Request-ID"] == "lb-7f3a.9_c"
    assert [r.request_id for r in heard.records] == ["lb-7f3a.9_c"] * len(heard.records)


@pytest.mark.parametrize("sent", ["two words", "x" * 65, "<b>", "a\tb", "日志"])
def test_an_odd_incoming_request_id_is_replaced(client, sent):
    got = client.get("/login", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert got != sent and re.fullmatch(r"[0-9a-f]{12}", got)


def test_each_request_gets_its_own_id(client):
    ids = {client.get("/login").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_records_outside_a_request_carry_a_dash(heard):
    logging.getLogger("community").info("a job ran")
    assert heard.records[-1].request_id == "-"


# --- a 500 ------------------------------------------------------------------------


@pytest.fixture
def boom_app(app):
    """An app of its own with a failing route (the shared app keeps its routes)."""
    from community import create_app

    other = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": main_url()}))
    bp = Blueprint("boom", __name__)

    @bp.route("/_test/boom/<int:n>")
    def fail(n):
        raise RuntimeError("failed for 330302199001011234 13812345678")

    other.register_blueprint(bp)
    return other


def test_a_500_logs_its_traceback_with_the_request_id_shown_as_the_error_reference(boom_app, heard):
    client = boom_app.test_client()  # Chinese, as users see it
    resp = client.get("/_test/boom/7?q=1", headers={"X-Request-ID": "req-500-test"})
    assert resp.status_code == 500 and resp.headers["X-Request-ID"] == "req-500-test"
    body = resp.get_data(as_text=True)
    assert "错误编号：<code>req-500-test</code>" in body
    assert "Traceback" not in body and "330302199001011234" not in body
    (error,) = [r for r in heard.records if r.levelno == logging.ERROR]
    assert error.request_id == "req-500-test" and "req-500-test" in error.getMessage()
    assert "/_test/boom/<int:n>" in error.getMessage() and error.exc_info
    (line,) = _request_lines(heard)
    assert (line.status, line.route) == (500, "/_test/boom/<int:n>")
    assert line.request_id == "req-500-test"

    # As the operator reads it: the traceback under the line, numbers blanked out.
    text = logs.TextFormatter().format(error)
    assert text.splitlines()[0].endswith(
        "ERROR community [req-500-test] error req-500-test: unhandled RuntimeError "
        "on GET /_test/boom/<int:n>"
    )
    assert "Traceback (most recent call last)" in text and "raise RuntimeError" in text
    assert "330302199001011234" not in text and "13812345678" not in text
    entry = json.loads(logs.JsonFormatter().format(error))
    assert entry["request_id"] == "req-500-test" and entry["level"] == "ERROR"
    assert "Traceback" in entry["traceback"] and "330302199001011234" not in entry["traceback"]


def test_the_error_reference_in_english(boom_app):
    client = boom_app.test_client()
    with client.session_transaction() as sess:
        sess["locale"] = "en"
    resp = client.get("/_test/boom/1")
    ref = resp.headers["X-Request-ID"]
    assert f"Error reference:<code>{ref}</code>" in resp.get_data(as_text=True)


def test_the_formats_blank_out_id_and_mobile_numbers_but_not_request_ids():
    message = "id 33030219900101123X phone 13812345678, order 12345678901234567890"
    record = logging.LogRecord("community", logging.INFO, __file__, 1, "%s", (message,), None)
    record.request_id = "130000000001"  # 12 digits: an id of ours may be all digits
    text = logs.TextFormatter().format(record)
    assert "33030219900101123X" not in text and "13812345678" not in text
    assert "[130000000001]" in text and "12345678901234567890" in text
    assert text.count(logs.REDACTED) == 2
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO community ", text)


# --- every role's journey ---------------------------------------------------------


class _Visitor:
    """A client that keeps every cookie value and CSRF token it was given."""

    def __init__(self, app, seen: set[str]):
        self.client = app.test_client()
        self.seen = seen
        self.requests = 0

    def _keep(self, resp):
        self.requests += 1
        for header in resp.headers.getlist("Set-Cookie"):
            value = header.split(";", 1)[0].split("=", 1)[1]
            if len(value) >= 8:
                self.seen.add(value)
        body = resp.get_data(as_text=True)
        self.seen.update(re.findall(r'name="csrf-token" content="([^"]+)"', body))
        self.seen.update(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', body))
        return resp

    def get(self, path, **kw):
        return self._keep(self.client.get(path, **kw))

    def post(self, path, data, **kw):
        return self._keep(self.client.post(path, data=data, **kw))

    def token(self, path="/"):
        return csrf_from(self.get(path).get_data(as_text=True))

    def login(self, username):
        data = {"username": username, "password": PASSWORD, "csrf_token": self.token("/login")}
        assert self.post("/login", data).status_code == 303


MAIN_LISTS = (
    "/",
    "/sites/",
    "/residents/",
    "/compliance/",
    "/duties/",
    "/duties/mine",
    "/reviews/",
    "/notifications/",
    "/audit/",
)


def test_every_roles_journey_leaves_no_personal_data_in_the_logs(app, session, heard):
    _, street, community = make_area_tree(session)
    users = {
        role: make_role_user(
            session,
            role,
            password=PASSWORD,
            org=make_org(session, area=street) if role == "police" else None,
            area=None if role in ("police", "admin") else community,
        )
        for role in ROLES
    }
    site = make_site(session, area=community, landlord=users["landlord"], name="青年公寓")
    room = make_room(session, building=make_building(session, site=site), number="101")
    session.commit()
    number, phone, name = id_number(), "13987654321", "张秘密"
    seen: set[str] = set()
    visitors = {role: _Visitor(app, seen) for role in ROLES}

    for role, visitor in visitors.items():
        visitor.login(users[role].username)
        for path in MAIN_LISTS:
            assert visitor.get(path).status_code < 500, (role, path)

    landlord = visitors["landlord"]
    data = {
        "csrf_token": landlord.token("/residents/new"),
        "room_id": room.id,
        "name": name,
        "id_number": number,
        "phone": phone,
        "move_in": today().isoformat(),
        "hometown": "浙江温州",
        "employer": "",
    }
    assert landlord.post("/residents/new", data).status_code == 303
    residence = session.scalar(select(Residence).where(Residence.room_id == room.id))
    police = visitors["police"]
    assert police.get(f"/residents/?q={number}").status_code == 200
    page = police.get(f"/residents/{residence.id}").get_data(as_text=True)
    revealed = police.post(f"/residents/{residence.id}/reveal", {"csrf_token": csrf_from(page)})
    assert number in revealed.get_data(as_text=True) and phone in revealed.get_data(as_text=True)
    assert landlord.get(f"/sites/?q={phone}").status_code == 200

    # The capture heard the journey: one request line per request, each with its id.
    made = sum(v.requests for v in visitors.values())
    assert len(_request_lines(heard)) == made
    assert all(r.request_id != "-" for r in _request_lines(heard))
    secrets = {number, mask_id_number(number), number[6:14], phone, mask_phone(phone), name}
    secrets |= {PASSWORD} | seen
    assert len(seen) >= 16  # session cookies and CSRF tokens were met
    leaks = sorted(
        {f"{s!r} in {line[:160]!r}" for line in heard.lines for s in secrets if s in line}
    )
    assert not leaks, "\n".join(leaks)


# --- the settings -----------------------------------------------------------------


def test_the_setup_reads_level_and_format_and_refuses_what_it_does_not_know():
    setup = logs.logging_config({"LOG_LEVEL": "debug", "LOG_FORMAT": "JSON"})
    assert setup["loggers"]["community"]["level"] == "DEBUG"
    assert setup["handlers"]["stderr"]["formatter"] == "json"
    assert setup["root"]["handlers"] == ["stderr"]
    assert setup["disable_existing_loggers"] is False
    default = logs.logging_config({})
    assert default["loggers"]["community"]["level"] == "INFO"
    assert default["handlers"]["stderr"]["formatter"] == "text"
    # Under TESTING the root keeps the test runner's handlers.
    assert "root" not in logs.logging_config({"TESTING": True})
    for bad in ({"LOG_LEVEL": "loud"}, {"LOG_FORMAT": "xml"}):
        with pytest.raises(SystemExit) as stopped:
            logs.logging_config(bad)
        assert "\n" not in str(stopped.value)


def test_logging_is_configured_once_per_process(app, monkeypatch):
    calls = []
    monkeypatch.setattr(logs.logging.config, "dictConfig", calls.append)
    logs.configure_logging({"LOG_LEVEL": "DEBUG"})
    assert calls == []  # the session's app did it already


def test_the_dev_servers_request_lines_are_dropped_and_query_strings_cut():
    keep = logs.DevServerFilter()

    def record(msg, *args):
        return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, args, None)

    line = '127.0.0.1 - - [07/Dec/2026 18:00:00] "%s" %s %s'
    assert not keep.filter(record(line, "GET /residents/?q=330302199001011234 HTTP/1.1", 200, "-"))
    assert not keep.filter(record(line, "\x1b[33mGET /x?q=1 HTTP/1.1\x1b[0m", 404, "-"))
    bad = record("code 400, message Bad request syntax ('GET /x?q=13812345678 HTTP')")
    assert keep.filter(bad) and "13812345678" not in bad.getMessage()
    assert keep.filter(record(" * Running on %s", "http://127.0.0.1:5000"))


def _run_in_a_fresh_process(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**_clean_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _clean_env() -> dict:
    drop = ("TEST_DATABASE_URL", "LOG_", "GUNICORN_", "WEB_CONCURRENCY", "PORT", "REDIS_URL")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def _app_env(tmp_path) -> dict:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'logs.db'}",
        "SECRET_KEY": "logs-test",
        "COMMUNITY_DATA_KEY": TestConfig.COMMUNITY_DATA_KEY,
        "COMMUNITY_INSTANCE_DIR": str(tmp_path / "instance"),
    }


def test_a_real_process_writes_json_lines_on_stderr(tmp_path):
    code = (
        "from community import create_app\n"
        "c = create_app().test_client()\n"
        "c.get('/login?next=/330302199001011234', headers={'X-Request-ID': 'json-1'})\n"
        "c.get('/no/such?q=13812345678')\n"
    )
    done = _run_in_a_fresh_process(code, {**_app_env(tmp_path), "LOG_FORMAT": "json"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == ""
    entries = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    lines = [e for e in entries if e["logger"] == "community.request"]
    assert [(e["method"], e["route"], e["status"], e["request_id"]) for e in lines[:1]] == [
        ("GET", "/login", 200, "json-1")
    ]
    assert [(e["route"], e["status"]) for e in lines[1:]] == [("-", 404)]
    assert all(e["user_id"] is None and isinstance(e["duration_ms"], int) for e in lines)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", lines[0]["time"])
    assert "330302199001011234" not in done.stderr and "13812345678" not in done.stderr


def test_a_process_of_its_own_such_as_the_worker_uses_the_same_setup():
    code = (
        "import logging\n"
        "from flask import Flask\n"
        "from community.core.logs import configure_logging\n"
        "worker = Flask('worker')\n"
        "worker.config.update(LOG_FORMAT='json', LOG_LEVEL='DEBUG')\n"
        "configure_logging(worker)\n"
        "configure_logging({'LOG_FORMAT': 'text'})  # a second call changes nothing\n"
        "logging.getLogger('community.worker').debug('job %s done', 42)\n"
        "logging.getLogger('sqlalchemy.pool').info('library chatter')\n"
    )
    done = _run_in_a_fresh_process(code, {})
    assert done.returncode == 0, done.stderr[-2000:]
    (entry,) = [json.loads(line) for line in done.stderr.splitlines()]
    assert (entry["logger"], entry["level"], entry["message"]) == (
        "community.worker",
        "DEBUG",
        "job 42 done",
    )
    assert entry["request_id"] == "-"


def test_a_bad_log_setting_stops_the_start_with_one_line(tmp_path):
    done = _run_in_a_fresh_process(
        "from community import create_app\ncreate_app()\n",
        {**_app_env(tmp_path), "LOG_LEVEL": "chatty"},
    )
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1].startswith("LOG_LEVEL=")


def _gunicorn_settings(monkeypatch, env: dict) -> dict:
    for name in list(os.environ):
        if name.startswith(("GUNICORN_", "WEB_CONCURRENCY", "PORT")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_conf_keeps_gunicorns_defaults(monkeypatch):
    conf = _gunicorn_settings(monkeypatch, {})
    assert conf["bind"] == "127.0.0.1:8000" and conf["workers"] == 1 and conf["timeout"] == 30
    assert conf["accesslog"] is None and conf["errorlog"] == "-" and conf["loglevel"] == "info"
    assert _gunicorn_settings(monkeypatch, {"PORT": "5005"})["bind"] == "0.0.0.0:5005"


def test_gunicorn_conf_reads_the_environment(monkeypatch):
    conf = _gunicorn_settings(
        monkeypatch,
        {
            "GUNICORN_BIND": "unix:/run/community.sock",
            "WEB_CONCURRENCY": "3",
            "GUNICORN_TIMEOUT": "90",
            "GUNICORN_ACCESS_LOG": "-",
            "GUNICORN_ERROR_LOG": "/var/log/community/error.log",
            "GUNICORN_LOG_LEVEL": "warning",
        },
    )
    assert conf["bind"] == "unix:/run/community.sock"
    assert (conf["workers"], conf["timeout"]) == (3, 90)
    assert conf["accesslog"] == "-" and conf["loglevel"] == "warning"
    assert conf["errorlog"] == "/var/log/community/error.log"
    # The path without the query string (%(U)s), never the request line or query.
    fmt = conf["access_log_format"]
    assert "%(U)s" in fmt and "%({x-request-id}o)s" in fmt
    for leaky in ("%(r)s", "%(q)s", "%(f)s", "%(h)s", "{cookie}"):
        assert leaky not in fmt


# --- a real gunicorn ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fetch(url: str, headers: dict | None = None) -> int:
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


@pytest.mark.parametrize("access_log", ["app", "gunicorn"])
def test_a_real_gunicorn_writes_one_access_line_per_request(tmp_path, access_log):
    """Whichever writes the access log (the app by default, gunicorn with
    GUNICORN_ACCESS_LOG), each request has exactly one line, without its query string."""
    port = _free_port()
    env = {**_clean_env(), **_app_env(tmp_path), "GUNICORN_BIND": f"127.0.0.1:{port}"}
    if access_log == "gunicorn":
        env["GUNICORN_ACCESS_LOG"] = "-"
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
            + ["--no-control-socket", "app:app"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _fetch(base + "/healthz") == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, err.read_text()[-2000:]
            time.sleep(0.2)
        assert _fetch(f"{base}/login?next=/x&q=330302199001011234", {"X-Request-ID": "gu-1"}) == 200
        assert _fetch(f"{base}/no/such?q=13812345678", {"X-Request-ID": "gu-2"}) == 404
        time.sleep(0.5)  # let the lines reach the files
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = out.read_text() + err.read_text()
    assert "q=" not in text and "330302199001011234" not in text and "13812345678" not in text
    app_lines = [line for line in text.splitlines() if " community.request " in line]
    access = [line for line in text.splitlines() if re.search(r'"GET /(login|no/such)"', line)]
    if access_log == "app":
        assert access == []
        assert len(app_lines) == 2, text[-3000:]
        assert "[gu-1] GET /login 200 " in app_lines[0] and "[gu-2] GET - 404 " in app_lines[1]
    else:
        assert app_lines == []
        assert len(access) == 2, text[-3000:]
        assert '[gu-1] "GET /login" 200 ' in access[0]
        assert '[gu-2] "GET /no/such" 404 ' in access[1]
