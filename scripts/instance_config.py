"""Write instance/config.py once: the local SECRET_KEY and COMMUNITY_DATA_KEY that
`make run` and every `flask --app app ...` command on this machine use, and the
development PUBLIC_BASE_URL (http://127.0.0.1:5000, where `make run` serves) so the
QR poster prints its code.

Keys made by earlier versions (instance/secret_key, instance/data_key) are kept, so
data encrypted with them stays readable. An existing instance/config.py keeps its
keys; one without a PUBLIC_BASE_URL gets the development one added. Production sets
the keys and PUBLIC_BASE_URL in the environment instead (they win).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import sys
from pathlib import Path

INSTANCE = Path(__file__).resolve().parent.parent / "instance"
# Where `make run` serves (see the Makefile's run target).
DEVELOPMENT_URL = "http://127.0.0.1:5000"
_PUBLIC_BASE_URL = re.compile(r"^\s*PUBLIC_BASE_URL\s*=", re.MULTILINE)
_PUBLIC_LINES = (
    "# The address printed in QR codes; `make run` serves here. A real deployment\n"
    "# sets its public address in the environment (it wins over this file).\n"
    f"PUBLIC_BASE_URL = {DEVELOPMENT_URL!r}\n"
)


def _old(name: str) -> str | None:
    path = INSTANCE / name
    return path.read_text().strip() if path.exists() else None


def _add_public_base_url(target: Path) -> bool:
    """Append the development PUBLIC_BASE_URL to a config written before it existed."""
    text = target.read_text()
    if _PUBLIC_BASE_URL.search(text):
        return False
    with target.open("a") as fh:
        fh.write(("" if text.endswith("\n") or not text else "\n") + _PUBLIC_LINES)
    return True


def main() -> int:
    target = INSTANCE / "config.py"
    if target.exists():
        if _add_public_base_url(target):
            print(f"added PUBLIC_BASE_URL = {DEVELOPMENT_URL!r} to {target}")
        return 0
    INSTANCE.mkdir(exist_ok=True)
    secret = _old("secret_key") or secrets.token_hex(32)
    data_key = _old("data_key") or base64.urlsafe_b64encode(os.urandom(32)).decode()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(
            "# Local settings of this machine, written once by `make run` (git-ignored).\n"
            "# Keep COMMUNITY_DATA_KEY: without it the personal data stored here is lost.\n"
            f"SECRET_KEY = {secret!r}\n"
            f"COMMUNITY_DATA_KEY = {data_key!r}\n" + _PUBLIC_LINES
        )
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
