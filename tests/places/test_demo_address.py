"""`make run` gives the demo a public address (instance/config.py), so its QR
posters print codes; production (no such file, the environment) is unchanged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask

from community import _load_instance_config
from community.accounts.models import User
from tests.factories.places import make_site

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
_RUN = """
import sys
sys.path.insert(0, {scripts!r})
import instance_config
from pathlib import Path
instance_config.INSTANCE = Path({instance!r})
sys.exit(instance_config.main())
"""


def _write_config(instance: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _RUN.format(instance=str(instance), scripts=str(SCRIPTS))],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _loaded(instance: Path, monkeypatch) -> Flask:
    for name in ("PUBLIC_BASE_URL", "SECRET_KEY", "COMMUNITY_DATA_KEY"):
        monkeypatch.delenv(name, raising=False)
    probe = Flask("probe", instance_path=str(instance))
    _load_instance_config(probe)
    return probe


def test_make_run_config_lets_the_demo_poster_print_its_codes(
    app, client, session, login_as, world, monkeypatch, tmp_path
):
    instance = tmp_path / "instance"
    assert "wrote" in _write_config(instance)
    local = _loaded(instance, monkeypatch)
    assert local.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert len(local.config["SECRET_KEY"]) == 64

    # What `make run` serves (not debug, not testing) with that file loaded.
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", local.config["PUBLIC_BASE_URL"])
    me = login_as("landlord", area=world.east)
    site = make_site(session, area=world.east, landlord=session.get(User, me["id"]))
    session.commit()
    monkeypatch.setattr(app, "testing", False)
    html = client.get(f"/sites/{site.id}/poster").get_data(as_text=True)
    assert html.count('class="segno"') == 2
    assert f"http://127.0.0.1:5000/declare/{site.qr_token}" in html
    assert "尚未配置公开访问地址" not in html


def test_an_older_config_gets_the_address_added_and_keeps_its_keys(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    old = "SECRET_KEY = 'kept-secret'\nCOMMUNITY_DATA_KEY = 'kept-data-key'\n"
    (instance / "config.py").write_text(old)
    assert "added PUBLIC_BASE_URL" in _write_config(instance)
    text = (instance / "config.py").read_text()
    assert text.startswith(old)
    local = _loaded(instance, monkeypatch)
    assert local.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert local.config["SECRET_KEY"] == "kept-secret"
    assert local.config["COMMUNITY_DATA_KEY"] == "kept-data-key"
    # Running again (every `make run`) changes nothing.
    assert _write_config(instance) == ""
    assert (instance / "config.py").read_text() == text


def test_an_address_already_set_and_the_environment_win(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    mine = "SECRET_KEY = 's'\nPUBLIC_BASE_URL = 'https://gongzhi.example.cn'\n"
    (instance / "config.py").write_text(mine)
    _write_config(instance)
    assert (instance / "config.py").read_text() == mine
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://from-the-environment.example.cn")
    probe = Flask("probe", instance_path=str(instance))
    _load_instance_config(probe)
    assert probe.config.get("PUBLIC_BASE_URL") is None  # the environment's (Config reads it)
