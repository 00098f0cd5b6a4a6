"""Refresh the message catalogues: extract, update both, fill English from the msgids.

Run with `make messages`; then translate the new empty entries of zh_Hans_CN (our zh_CN)
(tests/test_i18n.py fails while any entry is missing or fuzzy).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "community" / "translations"
POT = ROOT / "community" / "translations" / "messages.pot"


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def main() -> None:
    pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        # Assessment details, stored untranslated (community/assessments/criteria.py).
        "-k",
        "detail",
        "-k",
        "detail_plural:1,2",
        "--no-location",
        "--sort-output",
        # Babel skips directories starting with "_" by default: templates/_macros holds
        # shared strings (badges, pager, forms), so only dot-directories are skipped.
        "--ignore-dirs",
        ".* __pycache__",
        "-o",
        str(POT),
        ".",
    )
    for lang in ("zh_Hans_CN", "en"):
        po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            pybabel(
                "update",
                "-i",
                str(POT),
                "-d",
                str(TRANSLATIONS),
                "-l",
                lang,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
            )
        else:
            pybabel("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", lang)
    en = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
    with en.open("rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        if message.id and isinstance(message.id, tuple):
            if not any(message.string):
                message.string = message.id
        elif message.id and not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    with en.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, width=100)


if __name__ == "__main__":
    main()
