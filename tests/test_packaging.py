"""Installs that work (issue 18 item 6).

The lock files resolve, hash-locked, on every Python that pyproject.toml's
requires-python admits; the wheel carries the templates, static files (vendor
included), migrations and compiled catalogues, and an install of it in a fresh
virtualenv outside the checkout migrates and serves the Chinese login page with its
styles; a production start on SQLite says once where the database file is.

pip evaluates a lock file's markers against the Python running pip, not the one
`--python-version` names, so the resolution test evaluates them itself for each
target, downloads what applies with its hashes, and walks the downloaded wheels'
requirements from pyproject.toml to prove nothing is missing or left over.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests import dbutil

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REQUIRES_PYTHON = SpecifierSet(PYPROJECT["project"]["requires-python"])
LOCKS = {"requirements.txt": (), "requirements-dev.txt": ("dev",)}  # with the extras
DEV_LOCK = "requirements-dev.txt"
# From the lowest Python requires-python admits to the newest released (3.15,
# October 2026): 3.11.0-3.11.2 (Debian 12's is 3.11.2) need async-timeout for redis,
# which 3.11.3+ does not; backports-zstd exists below 3.14 only.
PYTHONS = ("3.11.0", "3.11.9", "3.12.0", "3.13.0", "3.14.0", "3.15.0")
PYPI = "https://pypi.org/simple"
# The built files a wheel needs besides the committed ones (setup.py checks them too).
BUILT = (
    "static/vendor/htmx.min.js",
    "static/vendor/pico.min.css",
    "community/translations/zh_Hans_CN/LC_MESSAGES/messages.mo",
    "community/translations/en/LC_MESSAGES/messages.mo",
)
_LOCK_LINE = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)\s*(?:;\s*(.*?))?\s*\\?$")


def _environment(python: str) -> dict[str, str]:
    """Marker values of CPython `python` on this machine's platform (linux x86_64: the
    lock serves other platforms too, through its sys_platform markers)."""
    return {
        "python_version": ".".join(python.split(".")[:2]),
        "python_full_version": python,
        "implementation_name": "cpython",
        "implementation_version": python,
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "extra": "",
    }


def _applying(lock: Path, env: dict[str, str]) -> tuple[str, dict[str, tuple[str, set[str]]]]:
    """The lock's lines that apply in `env` (markers dropped, hashes kept), and their
    version and hashes by canonical name."""
    lines: list[str] = []
    pins: dict[str, tuple[str, set[str]]] = {}
    name = None
    for line in lock.read_text().splitlines():
        match = _LOCK_LINE.match(line)
        if match:
            pinned, version, marker = match.groups()
            applies = marker is None or Marker(marker).evaluate(env)
            name = canonicalize_name(pinned) if applies else None
            if name:
                pins[name] = (version, set())
                lines.append(f"{pinned}=={version} \\")
        elif name and "--hash=" in line:
            pins[name][1].add(line.split("--hash=")[1].split()[0])
            lines.append(line)
    return "\n".join(lines) + "\n", pins


def _pip_isolated_env() -> dict[str, str]:
    """pip asking PyPI alone: none of this machine's extra indexes or wheel folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    if os.environ.get("PIP_CERT"):
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    return env


def _pypi_or_skip(what: str) -> None:
    try:
        urllib.request.urlopen(PYPI + "/pip/", timeout=10).close()  # nosec B310: fixed URL
    except OSError as exc:
        pytest.skip(f"PyPI is unreachable ({exc}): {what} is not proved")


@pytest.fixture(scope="module")
def resolutions(tmp_path_factory):
    """pip's dry run of the dev lock (the larger one) for each Python, all at once
    (each asks PyPI for some 80 index pages and metadata files, without downloading
    the wheels): what applies there, hash-locked, wheels only; the metadata of each."""
    _pypi_or_skip("the lock files' resolution")
    folder = tmp_path_factory.mktemp("resolutions")

    def resolve(python: str):
        text, _ = _applying(ROOT / DEV_LOCK, _environment(python))
        requirements, report = folder / f"{python}.txt", folder / f"{python}.json"
        requirements.write_text(text)
        done = subprocess.run(  # nosec B603: fixed arguments
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--dry-run",
                "--ignore-installed", "--no-deps", "--only-binary=:all:", "--require-hashes",
                "--python-version", python, "--index-url", PYPI,
                "--report", str(report), "-r", str(requirements),
            ],
            capture_output=True, text=True, env=_pip_isolated_env(), timeout=600,
        )  # fmt: skip
        installs = json.loads(report.read_text())["install"] if done.returncode == 0 else []
        return done, installs

    with ThreadPoolExecutor(max_workers=len(PYTHONS)) as pool:
        return dict(zip(PYTHONS, pool.map(resolve, PYTHONS), strict=True))


def test_the_pythons_tried_cover_requires_python():
    (lowest,) = [s.version for s in REQUIRES_PYTHON if s.operator == ">="]
    assert PYTHONS[0] == f"{lowest}.0", "start at the lowest Python requires-python admits"
    assert all(REQUIRES_PYTHON.contains(v) for v in PYTHONS), REQUIRES_PYTHON


@pytest.mark.parametrize("python", PYTHONS)
def test_dev_lock_resolves_hash_locked_wheels_only(resolutions, python):
    done, installs = resolutions[python]
    assert done.returncode == 0, f"{DEV_LOCK} on Python {python}:\n{done.stderr[-3000:]}"
    _, pins = _applying(ROOT / DEV_LOCK, _environment(python))
    assert {canonicalize_name(i["metadata"]["name"]) for i in installs} == set(pins)
    for item in installs:  # a wheel, one of the locked files
        info = item["download_info"]
        name = canonicalize_name(item["metadata"]["name"])
        assert info["url"].endswith(".whl"), info["url"]
        assert info["archive_info"]["hash"].replace("=", ":", 1) in pins[name][1]


@pytest.mark.parametrize("lock", sorted(LOCKS))
@pytest.mark.parametrize("python", PYTHONS)
def test_lock_pins_exactly_what_pyproject_needs_there(resolutions, lock, python):
    """What applies of the lock in that Python is what pyproject.toml's dependencies
    need there, through every package's requirements (their markers evaluated for that
    Python): nothing missing (pip would refuse a hash-locked install), nothing left
    over (a dead pin without a wheel there failed the install on 3.14). The production
    lock's pins are the dev lock's, with the same hashes, so the dev lock's dry run
    proves their wheels exist."""
    env = _environment(python)
    _, pins = _applying(ROOT / lock, env)
    _, dev_pins = _applying(ROOT / DEV_LOCK, env)
    assert all(dev_pins.get(name) == pin for name, pin in pins.items())
    done, installs = resolutions[python]
    assert done.returncode == 0, f"{DEV_LOCK} on Python {python}:\n{done.stderr[-3000:]}"
    metadata = {canonicalize_name(i["metadata"]["name"]): i["metadata"] for i in installs}

    project = PYPROJECT["project"]
    todo = [(Requirement(r), "") for r in project["dependencies"]]
    for extra in LOCKS[lock]:
        todo += [(Requirement(r), "") for r in project["optional-dependencies"][extra]]
    reached: set[tuple[str, str]] = set()
    problems = []
    while todo:
        req, extra = todo.pop()
        if req.marker and not req.marker.evaluate({**env, "extra": extra}):
            continue
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{req} is needed but not pinned")
            continue
        if not req.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{req} is needed but {name}=={pins[name][0]} is pinned")
        for wanted in ["", *sorted(req.extras)]:
            if (name, wanted) not in reached:
                reached.add((name, wanted))
                requires = metadata[name].get("requires_dist") or []
                todo += [(Requirement(r), wanted) for r in requires]
    dead = set(pins) - {name for name, _ in reached}
    assert not problems and not dead, (problems, sorted(dead))


# --- the wheel ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)  # nosec B603
    assert done.returncode == 0, f"{args}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:  # nosec B310: our own server
        return resp.status, resp.headers.get("Content-Type", ""), resp.read()


def _source_copy(target: Path) -> None:
    """The checkout as a build sees it: tracked and new files (not the ignored ones),
    plus the built assets and catalogues; building in the checkout would leave
    build/ behind."""
    listed = subprocess.run(  # nosec B603 B607: git, fixed arguments
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in [n for n in listed if n and not n.startswith("tests/")] + list(BUILT):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def test_wheel_installed_outside_the_checkout_migrates_and_serves(tmp_path):
    missing = [name for name in BUILT if not (ROOT / name).is_file()]
    assert not missing, f"run `make assets translations` first: {missing}"
    _pypi_or_skip("the install from requirements.txt")
    started = time.monotonic()
    _source_copy(tmp_path / "src")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path / "dist",
          tmp_path / "src"])  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("community-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "community/templates/base.html",
        "community/templates/accounts/login.html",
        "community/static/css/app.css",
        "community/static/vendor/htmx.min.js",
        "community/static/vendor/pico.min.css",
        "community/migrations/env.py",
        "community/migrations/alembic.ini",
        "community/translations/zh_Hans_CN/LC_MESSAGES/messages.mo",
    ):
        assert needed in names, needed
    assert any(n.startswith("community/migrations/versions/0001_") for n in names)
    built = time.monotonic()

    venv = tmp_path / "venv"  # this pip installs into it (--python): no pip of its own
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    pip = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "--quiet"]
    _run([*pip, "install", "--no-compile", "--require-hashes", "-r", ROOT / "requirements.txt"])
    _run([*pip, "install", "--no-compile", "--no-deps", wheel])
    installed = time.monotonic()

    run = tmp_path / "run"  # a working directory outside the checkout
    run.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "SECRET_KEY": "packaging-test-secret",
        "COMMUNITY_DATA_KEY": "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdCE=",
    }
    where = _run(
        [venv / "bin" / "python", "-c", "import community; print(community.__file__)"],
        cwd=run, env=env,
    ).stdout  # fmt: skip
    assert where.startswith(str(venv)), where
    database = venv / "var" / "community-instance" / "community.db"
    flask = [venv / "bin" / "flask", "--app", "community"]
    upgrade = _run([*flask, "db", "upgrade"], cwd=run, env=env)
    assert database.is_file()
    assert upgrade.stderr.count(f"embedded SQLite database file {database}") == 1, upgrade.stderr
    if dbutil.is_postgres():  # the same migrations on PostgreSQL, from the installed wheel
        url = dbutil.scratch_url("packaging")
        try:
            _run([*flask, "db", "upgrade"], cwd=run, env={**env, "DATABASE_URL": url})
        finally:
            dbutil.drop_scratch(url)

    port = _free_port()
    server = subprocess.Popen(  # nosec B603: fixed arguments
        [venv / "bin" / "gunicorn", "--workers", "2", "--preload", "--bind",
         f"127.0.0.1:{port}", "community:create_app()"],
        cwd=run, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        status, kind, body = _get(base + "/login")
        page = body.decode()
        assert status == 200 and kind.startswith("text/html")
        assert 'lang="zh' in page and "登录" in page
        for asset, mimetype in (("vendor/pico.min.css", "text/css"), ("css/app.css", "text/css"),
                                ("vendor/htmx.min.js", "javascript")):  # fmt: skip
            href = re.search(rf'(?:href|src)="([^"]*/static/{re.escape(asset)}[^"]*)"', page)
            assert href, asset
            status, kind, body = _get(base + href.group(1).replace("&amp;", "&"))
            assert status == 200 and mimetype in kind and len(body) > 1000, (asset, kind)
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert errors.count("embedded SQLite database file") == 1, errors
    print(
        f"\nwheel built in {built - started:.1f} s, installed in {installed - built:.1f} s, "
        f"migrated and served in {time.monotonic() - installed:.1f} s"
    )


# --- the start-up line ----------------------------------------------------------


def _start(tmp_path: Path, **env: str) -> str:
    """stderr of a process making the production app (no TESTING, no DEBUG)."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    done = _run(
        [sys.executable, "-c", "from community import create_app; create_app()"],
        cwd=ROOT,
        env={
            **keep,
            "SECRET_KEY": "packaging-test-secret",
            "COMMUNITY_INSTANCE_DIR": str(tmp_path / "instance"),
            **env,
        },
    )
    return done.stderr


def test_production_start_on_sqlite_says_once_where_the_file_is(tmp_path):
    errors = _start(tmp_path)
    line = f"embedded SQLite database file {tmp_path / 'instance' / 'community.db'}"
    assert errors.count(line) == 1, errors
    assert "DATABASE_URL is not set" in errors


def test_start_line_is_not_repeated_by_a_process_whose_parent_said_it(tmp_path):
    # gunicorn's workers inherit COMMUNITY_DATABASE_ANNOUNCED from a master that said it.
    assert "SQLite" not in _start(tmp_path, COMMUNITY_DATABASE_ANNOUNCED="1")


def test_no_start_line_with_a_database_url_to_postgresql(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"  # never connected at start
    assert "SQLite" not in _start(tmp_path, DATABASE_URL=url)
