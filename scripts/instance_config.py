"""Write instance/config.py once: the local SECRET_KEY and COMMUNITY_DATA_KEY that
`make run` and every `flask --app app ...` command on this machine use.

Keys made by earlier versions (instance/secret_key, instance/data_key) are kept, so
data encrypted with them stays readable. An existing instance/config.py is never
touched. Production sets both keys in the environment instead (they win).
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def _old(name: str) -> str | None:
    path = INSTANCE / name
    return path.read_text().strip() if path.exists() else None


def main() -> int:
    target = INSTANCE / "config.py"
    if target.exists():
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
            f"COMMUNITY_DATA_KEY = {data_key!r}\n"
        )
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
