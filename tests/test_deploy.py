"""The deployment files in deploy/ (issue 18 item 4), checked where this machine can:
the commands the Dockerfile, compose.yaml and the systemd units run are the same, and
are the ones started here (gunicorn with gunicorn.conf.py and the worker, with the
database migrated by compose's `migrate` command) behind Debian's nginx with the
site file as written (only its certificate, log and static paths, and its ports, are
the test's); `nginx -t` on the site; `systemd-analyze verify` on the units. Docker
itself is not run (no daemon here): its files are read."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import time
from contextlib import ExitStack
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from community.config import Config, TestConfig
from tests import dbutil
from tests.multihost import (
    MIGRATE,
    WEB,
    WORKER,
    free_port,
    free_redis_db,
    program,
    until,
)

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "community.conf"
UPSTREAM = DEPLOY / "nginx" / "upstream.conf"
UNITS = DEPLOY / "systemd"
INSTALL_DIR = "/opt/community"
LOCAL = IPv4Address("127.0.0.1")


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: the started processes commit, in
    a scratch database."""


# What the files say.


def _exec_start(unit: str) -> list[str]:
    """The unit's ExecStart as argv, the virtualenv's folder taken off the program."""
    lines = [
        line.split("=", 1)[1]
        for line in (UNITS / unit).read_text().splitlines()
        if line.startswith("ExecStart=")
    ]
    assert len(lines) == 1, f"{unit}: one ExecStart"
    argv = shlex.split(lines[0])
    venv_bin = f"{INSTALL_DIR}/.venv/bin/"
    assert argv[0].startswith(venv_bin), f"{unit} runs {argv[0]}, not the virtualenv's"
    return [argv[0].removeprefix(venv_bin), *argv[1:]]


def _dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text()


def _compose() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML reads compose.yaml (requirements-dev)")
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _units() -> list[str]:
    return sorted(p.name for p in UNITS.glob("*.service"))


def test_the_units_compose_and_the_image_run_the_same_commands():
    assert _units() == ["community-web.service", "community-worker.service"]
    assert _exec_start("community-web.service") == WEB
    assert _exec_start("community-worker.service") == WORKER
    services = _compose()["services"]
    assert set(services) == {"migrate", "app", "worker", "db", "redis", "proxy"}
    assert services["app"]["command"] == WEB
    assert services["worker"]["command"] == WORKER
    assert services["migrate"]["command"] == MIGRATE
    cmd = [line for line in _dockerfile().splitlines() if line.startswith("CMD ")]
    assert [json.loads(line[4:]) for line in cmd] == [WEB]


def test_the_units_read_the_environment_file_and_run_as_their_own_user():
    for unit in _units():
        text_ = (UNITS / unit).read_text()
        for setting in (
            "User=community",
            f"WorkingDirectory={INSTALL_DIR}",
            "EnvironmentFile=/etc/community/community.env",
            "StateDirectory=community",
        ):
            assert f"\n{setting}\n" in text_, f"{unit}: {setting}"
        assert re.search(r"^Restart=(on-failure|always)$", text_, re.M), unit


def test_the_image_installs_from_the_lock_file_and_runs_as_a_user():
    docker = _dockerfile()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", docker, re.M)
    assert stages[0] == ("python:3.11-slim", "build") and stages[-1] == ("python:3.11-slim", "app")
    assert "pip install --require-hashes -r /app/requirements.txt" in docker
    assert "make VENV=/opt/venv assets translations" in docker  # vendor files, .mo files
    final = docker.split(" AS app\n", 1)[1]
    users = re.findall(r"^USER (\S+)$", final, re.M)
    assert users == ["community"], "the app stage runs as its own user"
    assert final.index("USER community") < final.index("CMD ")
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert {"instance", ".venv", "node_modules", ".git"} <= set(ignored)  # keys stay out
    # The compose services share the env file and the files volume.
    services = _compose()["services"]
    for name in ("migrate", "app", "worker"):
        assert services[name]["env_file"] == "community.env"
        assert services[name]["volumes"] == ["files:/var/lib/community"]
        assert services[name]["build"]["target"] == "app"
    assert services["proxy"]["build"]["target"] == "proxy"
    # The proxy stage's edits find what they edit.
    assert "sed -i 's/server 127.0.0.1:8000/server app:8000/'" in docker
    assert UPSTREAM.read_text().count("server 127.0.0.1:8000;") == 1
    assert "sed -i '/listen \\[::\\]/d'" in docker
    assert len(re.findall(r"^\s*listen \[::\]", SITE.read_text(), re.M)) == 2
    assert "COMMUNITY_DATA_KEY=" in (DEPLOY / "community.env.example").read_text()


def _mebibytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_the_site_takes_the_largest_request_the_app_takes_and_never_gzips_pages():
    site = SITE.read_text()
    limit = re.findall(r"^\s*client_max_body_size (\S+);", site, re.M)
    assert len(limit) == 1
    # The app's limit with the default settings (no environment here sets them).
    assert _mebibytes(limit[0]) == Config.MAX_CONTENT_LENGTH
    assert Config.MAX_CONTENT_LENGTH >= max(Config.IMPORT_MAX_BYTES, Config.UPLOAD_MAX_BYTES)
    # gzip is off for the server, on only for /static/ and never for text/html.
    server = site.split("listen 443", 1)[1]
    static = server.split("location /static/", 1)[1].split("}", 1)[0]
    assert "gzip off;" in server.split("location", 1)[0]
    assert server.count("gzip on;") == 1 and "gzip on;" in static
    assert "text/html" not in site.split("gzip_types", 1)[1].split(";", 1)[0]
    # The headers ProxyFix trusts with PROXY_FIX=1, and the request id.
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Request-ID"):
        assert f"proxy_set_header {header} " in site


# Debian's nginx and systemd-analyze.


def _nginx() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.skip("nginx is missing and we are not root: apt-get install nginx to check the site")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "nginx"], env=env, check=True, capture_output=True
    )
    return shutil.which("nginx", path="/usr/sbin:/sbin:/usr/bin")


def _certificate(folder: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 in `folder` (fullchain.pem and
    privkey.pem, the names the site expects); returns the certificate's path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "fullchain.pem"


def _replace(text_: str, old: str, new: str, count: int) -> str:
    assert text_.count(old) == count, f"the site should hold {old!r} {count} times"
    return text_.replace(old, new)


def _nginx_conf(tmp: Path, http_port: int = 80, https_port: int = 443, app_port: int = 8000):
    """nginx.conf of a test nginx under `tmp` including the site and upstream files as
    written, but for the certificate, log and static paths and the ports."""
    cert = _certificate(tmp / "certs")
    site = SITE.read_text()
    site = _replace(site, "/etc/ssl/community/", f"{tmp}/certs/", 2)
    site = _replace(site, "/var/log/nginx/community.access.log", f"{tmp}/access.log", 2)
    site = _replace(site, f"alias {INSTALL_DIR}/static/;", f"alias {ROOT}/static/;", 1)
    site = _replace(site, "listen [::]:80;\n", "", 1)
    site = _replace(site, "listen [::]:443 ssl http2;\n", "", 1)
    site = _replace(site, "listen 80;", f"listen 127.0.0.1:{http_port};", 1)
    site = _replace(site, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", 1)
    upstream = _replace(UPSTREAM.read_text(), "127.0.0.1:8000", f"127.0.0.1:{app_port}", 1)
    (tmp / "community.conf").write_text(site)
    (tmp / "upstream.conf").write_text(upstream)
    temp = " ".join(
        f"{kind}_temp_path {tmp}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {tmp}/access.log;
    {temp}
    include {tmp}/upstream.conf;
    include {tmp}/community.conf;
}}
"""
    )
    return conf, cert


def test_nginx_accepts_the_site(tmp_path):
    nginx = _nginx()
    conf, _ = _nginx_conf(tmp_path)
    done = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    warnings = [line for line in done.stderr.splitlines() if "[warn]" in line]
    assert not warnings, "\n".join(warnings)


def test_systemd_analyze_verifies_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip(
            "systemd-analyze is not installed (Debian: systemd): the units are not verified"
        )
    # The install folder and the environment file as on a host where they exist.
    env_file = tmp_path / "community.env"
    env_file.write_text((DEPLOY / "community.env.example").read_text())
    copies = []
    for unit in _units():
        body = (UNITS / unit).read_text()
        body = body.replace(f"{INSTALL_DIR}/.venv/bin/", f"{Path(sys.executable).parent}/")
        body = body.replace(INSTALL_DIR, str(ROOT))
        body = body.replace("/etc/community/community.env", str(env_file))
        (tmp_path / unit).write_text(body)
        copies.append(f"./{unit}")
    done = subprocess.run(
        [analyze, "verify", "--man=no", *copies], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


# The commands started for real: migrate, gunicorn and the worker on the suite's kind
# of database (a scratch PostgreSQL database, or a SQLite file) with Redis, behind nginx.


def _seed(url: str, tmp: Path) -> tuple[str, int]:
    """A landlord with a site (building A座, room 101) committed; returns the
    username and the site id."""
    from community import create_app
    from community.extensions import db
    from tests.conftest import PASSWORD
    from tests.factories.accounts import make_area_tree, make_role_user
    from tests.factories.places import make_building, make_room, make_site

    settings = {"SQLALCHEMY_DATABASE_URI": url, "IMPORT_DIR": str(tmp / "imports")}
    app = create_app(type("Cfg", (TestConfig,), settings))
    with app.app_context():
        s = db.session
        _, _, community = make_area_tree(s)
        landlord = make_role_user(s, "landlord", password=PASSWORD, area=community)
        site = make_site(s, area=community, landlord=landlord, name="部署公寓")
        make_room(s, building=make_building(s, site=site, name="A座"), number="101")
        s.commit()
        found = (landlord.username, site.id)
        s.remove()
        db.engine.dispose()
    return found


def test_gunicorn_and_the_worker_serve_behind_nginx(tmp_path):
    import requests

    from tests.conftest import PASSWORD
    from tests.factories.residents import id_number
    from tests.residents.test_imports import csv_bytes

    nginx = _nginx()
    redis_client, redis_db = free_redis_db()
    url = dbutil.scratch_url("deploy")
    app_port, http_port, https_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "deploy-test-secret",
        "COMMUNITY_DATA_KEY": TestConfig.COMMUNITY_DATA_KEY,
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "COMMUNITY_INSTANCE_DIR": str(tmp_path / "instance"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "IMPORT_DIR": str(tmp_path / "imports"),
        "PUBLIC_BASE_URL": f"https://127.0.0.1:{https_port}",
        "PROXY_FIX": "1",
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "WEB_CONCURRENCY": "2",
        # gunicorn's control socket here, not in ~/.gunicorn where other tests' go.
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    for name in ("FLASK_DEBUG", "GUNICORN_CMD_ARGS", "TEST_DATABASE_URL"):
        env.pop(name, None)
    engine = create_engine(url)
    with ExitStack() as stack:
        stack.callback(dbutil.drop_scratch, url)
        stack.callback(engine.dispose)
        stack.callback(redis_client.flushdb)
        started = time.monotonic()
        migrate = subprocess.run(
            program(MIGRATE), cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        landlord, site_id = _seed(url, tmp_path)

        def start(argv: list[str], name: str) -> subprocess.Popen:
            log = stack.enter_context((tmp_path / f"{name}.log").open("wb"))
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

            def stop() -> None:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()

            stack.callback(stop)
            return proc

        conf, cert = _nginx_conf(tmp_path, http_port, https_port, app_port)
        web = start(program(WEB), "web")
        worker = start(program(WORKER), "worker")
        start([nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"], "nginx")
        base = f"https://127.0.0.1:{https_port}"
        http = requests.Session()
        # Flask-WTF checks over HTTPS that a form comes from this site, as browsers say.
        http.headers["Referer"] = f"{base}/"

        def call(method: str, path: str, **kw):
            # The session's own `verify` is not applied here (requests 2.34): per call.
            kw.setdefault("timeout", 5)
            return http.request(method, f"{base}{path}", verify=str(cert), **kw)

        def healthy():
            assert web.poll() is None, (tmp_path / "web.log").read_text()[-3000:]
            try:
                return call("GET", "/healthz", timeout=2).status_code == 200
            except requests.RequestException:  # refused, or waiting for a booting worker
                return False

        until(healthy, 30, "gunicorn answers through nginx")
        # Plain HTTP is sent to HTTPS.
        plain = requests.get(
            f"http://127.0.0.1:{http_port}/login", allow_redirects=False, timeout=5
        )
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")

        # A page: never compressed (it carries the CSRF token), with nginx's request id,
        # and a Secure session cookie (the app trusts X-Forwarded-Proto through PROXY_FIX).
        page = call("GET", "/login", headers={"Accept-Encoding": "gzip, br"})
        assert page.status_code == 200 and 'name="csrf_token"' in page.text
        assert "Content-Encoding" not in page.headers
        request_id = page.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id
        assert "Secure" in page.headers.get("Set-Cookie", "")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)

        # A static file from nginx: versioned, so cached for a year, and gzipped.
        css = re.search(r'href="(/static/css/app\.css\?v=[^"]+)"', page.text).group(1)
        static = call("GET", css, headers={"Accept-Encoding": "gzip"})
        assert static.status_code == 200 and static.headers.get("Content-Encoding") == "gzip"
        assert static.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert static.content == (ROOT / "static/css/app.css").read_bytes()

        login = call(
            "POST",
            "/login",
            data={"username": landlord, "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
            timeout=5,
        )
        assert login.status_code == 303, login.text[:500]

        # An import: the web app takes the file, the worker runs it.
        form = call("GET", "/residents/import")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
        yesterday = (dt.date.today() - dt.timedelta(days=2)).isoformat()
        row = [site_id, "A座", "101", "部署测试", id_number(), "13812345678", yesterday, "", ""]
        sent = call(
            "POST",
            "/residents/import",
            data={"csrf_token": token},
            files={"file": ("residents.csv", csv_bytes([row]), "text/csv")},
            allow_redirects=False,
            timeout=10,
        )
        assert sent.status_code == 303, sent.text[:500]
        job_id = int(sent.headers["Location"].rstrip("/").rsplit("/", 1)[1])

        def job_done():
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            with engine.connect() as conn:
                status = conn.execute(
                    text("SELECT status FROM import_job WHERE id = :id"), {"id": job_id}
                ).scalar()
            return status if status in ("done", "failed") else None

        assert until(job_done, 30, "the worker finishes the import") == "done"
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM residence")).scalar() == 1
        shown = call("GET", f"/residents/import/{job_id}")
        assert shown.status_code == 200

        # A request over the limit stops at nginx, before the app reads it.
        over = http_client_post_length(https_port, cert, Config.MAX_CONTENT_LENGTH + 1)
        assert over == 413

        # One id in both logs: nginx's access line and the app's request line.
        access = (tmp_path / "access.log").read_text()
        assert f"[{request_id}]" in access and "?v=" not in access  # no query strings
        until(lambda: request_id in (tmp_path / "web.log").read_text(), 5, "the app logs the id")
        assert time.monotonic() - started < 50


def http_client_post_length(port: int, cert: Path, length: int) -> int:
    """POST announcing a body of `length` bytes without sending it: nginx answers from
    the Content-Length alone."""
    context = ssl.create_default_context(cafile=str(cert))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context)
    try:
        conn.putrequest("POST", "/residents/import")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()
