"""The photo limits README lists as environment settings are read from the
environment (they were only settable through instance/config.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

NAMES = (
    "UPLOAD_MAX_BYTES",
    "UPLOAD_MAX_DECODED_BYTES",
    "UPLOAD_MAX_ASPECT_RATIO",
    "UPLOAD_MAX_BIT_DEPTH",
    "UPLOAD_MAX_SIDE",
    "UPLOAD_MAX_SIDE_PNG",
)


def _config(env: dict[str, str]) -> dict[str, int]:
    code = (
        "import json; from community.config import Config; "
        f"print(json.dumps({{n: getattr(Config, n) for n in {NAMES!r}}}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in NAMES}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_upload_limits_come_from_the_environment():
    given = {name: str(1000 + i) for i, name in enumerate(NAMES)}
    assert _config(given) == {name: int(value) for name, value in given.items()}


def test_unset_upload_limits_keep_the_defaults(app):
    from community.core import uploads

    config = _config({})
    assert config["UPLOAD_MAX_BYTES"] == 5 * 1024 * 1024
    # 0 means "the default named in core/uploads.py".
    assert {config[n] for n in NAMES[1:]} == {0}
    with app.app_context():
        assert uploads.max_bytes() == 5 * 1024 * 1024
