"""Both catalogues are complete: every string in the code has a translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def _extract(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


def _catalog(lang: str):
    with (ROOT / "community/translations" / lang / "LC_MESSAGES/messages.po").open("rb") as fh:
        return read_po(fh)


def test_every_string_is_translated_in_both_catalogues(tmp_path):
    wanted = _extract(tmp_path)
    for lang in ("zh_Hans_CN", "en"):
        catalog = _catalog(lang)
        missing = []
        for msgid in sorted(wanted):
            message = catalog.get(msgid)
            if message is None or message.fuzzy:
                missing.append(msgid)
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                missing.append(msgid)
        assert not missing, (
            f"{lang}: {len(missing)} untranslated, run `make messages`: {missing[:20]}"
        )


def test_chinese_catalogue_keeps_placeholders():
    for message in _catalog("zh_Hans_CN"):
        if not message.id or not isinstance(message.id, str) or not message.string:
            continue
        import re

        wanted = sorted(re.findall(r"%\(\w+\)[sd]", message.id))
        got = sorted(re.findall(r"%\(\w+\)[sd]", message.string))
        assert wanted == got, f"placeholders differ in {message.id!r}"


def test_chinese_text_uses_full_width_punctuation():
    """Commas, colons, brackets and full stops next to Chinese characters are
    full-width (，：（）。), as people read them; placeholders and URLs are left out."""
    import re

    half = re.compile(r"[\u4e00-\u9fff][,;:!?()]|[,;:!?(][\u4e00-\u9fff]|[\u4e00-\u9fff]\.$")
    wrong = []
    for message in _catalog("zh_Hans_CN"):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if message.id and text:
                bare = re.sub(r"%\(\w+\)[sd]|https?://\S+|\{[^}]*\}", "", text)
                if half.search(bare):
                    wrong.append(text)
    assert not wrong, wrong[:10]


def test_a_persons_name_is_xingming_and_a_step_is_xiayibu():
    catalog = _catalog("zh_Hans_CN")
    assert catalog.get("Full name").string == "姓名"
    assert catalog.get("Next step").string == "下一步"
    assert catalog.get("Next").string == "下一页"  # the pager's
