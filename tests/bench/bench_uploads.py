"""Upload benchmark: time and peak memory of clean_image() on worst-case files.

Builds the files once (into a cache directory), then runs clean_image() on each
in a fresh child process, so every figure starts from the same baseline:

    .venv/bin/python tests/bench/bench_uploads.py [--only NAME] [--module PATH]

`--module` loads another version of community/core/uploads.py (e.g. from
`git show REV:community/core/uploads.py > /tmp/old_uploads.py`) to compare.
Peak memory is the growth of the child's peak RSS (VmHWM) during the call:
Pillow allocates pixels with malloc, which tracemalloc does not see.
Prints one line per case. Figures, not assertions: compare runs on one machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CACHE = Path(tempfile.gettempdir()) / "community-bench-uploads"


def _png(width: int, height: int, bit_depth: int, colour_type: int, rows) -> bytes:
    """A PNG written by hand (Pillow cannot write 16-bit RGBA); `rows` yields
    each filtered scanline (filter byte included)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    packer = zlib.compressobj(9)
    parts = [packer.compress(row) for row in rows]
    parts.append(packer.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def _repeat(row: bytes, times: int, batch: int = 4096):
    full, rest = divmod(times, batch)
    block = row * batch
    for _ in range(full):
        yield block
    yield row * rest


def case_png_1x39m_rgba16() -> bytes:
    # The probe's file: one pixel wide, 39 million rows of 16-bit RGBA.
    return _png(1, 39_000_000, 16, 6, _repeat(b"\0" + b"\0" * 8, 39_000_000))


def case_png_10000x10000_1bit() -> bytes:
    return _png(10_000, 10_000, 1, 0, _repeat(b"\0" + b"\xaa" * 1250, 10_000))


def case_png_8000x8000_rgb() -> bytes:
    # Stripes compress to well under 5 MB but decode to 192 MB of RGB.
    row = b"\0" + bytes(range(0, 240, 10)) * (8000 * 3 // 24)
    return _png(8000, 8000, 8, 2, _repeat(row, 8000))


def case_png_6000x6000_1bit() -> bytes:
    # Under the pixel limit: Pillow holds one byte per pixel, 36 MB.
    return _png(6000, 6000, 1, 0, _repeat(b"\0" + b"\xaa" * 750, 6000))


def case_png_6000x6000_rgb() -> bytes:
    row = b"\0" + bytes(range(0, 240, 10)) * (6000 * 3 // 24)
    return _png(6000, 6000, 8, 2, _repeat(row, 6000))


def case_png_4000x4000_gray16() -> bytes:
    row = b"\0" + b"".join(struct.pack(">H", (x * 16) & 0xFFFF) for x in range(4000))
    return _png(4000, 4000, 16, 0, _repeat(row, 4000))


def case_png_4096x4096_rgba() -> bytes:
    # Right at the default decoded-size limit (64 MiB), something to actually resize.
    from PIL import Image

    img = Image.radial_gradient("L").resize((4096, 4096))
    return _save(Image.merge("RGBA", (img, img.rotate(90), img.rotate(180), img)), "PNG")


def case_jpeg_progressive_7000x5000() -> bytes:
    from PIL import Image

    small = Image.effect_noise((700, 500), 60).convert("RGB")
    return _save(small.resize((7000, 5000)), "JPEG", quality=80, progressive=True)


def case_jpeg_progressive_444_6300x6300() -> bytes:
    # 39.7 million pixels, no chroma subsampling: libjpeg keeps every DCT
    # coefficient of a progressive JPEG in memory, whatever scale it decodes at.
    from PIL import Image

    small = Image.effect_noise((90, 90), 40).convert("RGB")
    big = small.resize((6300, 6300), Image.Resampling.BICUBIC)
    return _save(big, "JPEG", quality=75, progressive=True, subsampling=0)


def _blocks(mode: str, side: int) -> bytes:
    # As much detail as fits in a few MB, at a given decoded size: re-encoding
    # the scaled-down picture is the slow part.
    from PIL import Image

    nearest = Image.Resampling.NEAREST
    bands = [
        Image.effect_noise((side // 8, side // 8), 30).resize((side, side), nearest) for _ in mode
    ]
    return _save(Image.merge(mode, bands), "PNG")


def case_png_4096x4096_rgba_blocks() -> bytes:
    return _blocks("RGBA", 4096)  # 64 MiB decoded


def case_png_3547x3547_rgba_blocks() -> bytes:
    return _blocks("RGBA", 3547)  # 48 MiB decoded


def case_png_4096x4096_rgb_blocks() -> bytes:
    return _blocks("RGB", 4096)  # 48 MiB decoded


def case_jpeg_progressive_444_4000x3000() -> bytes:
    from PIL import Image

    small = Image.effect_noise((400, 300), 60).convert("RGB")
    return _save(small.resize((4000, 3000)), "JPEG", quality=90, progressive=True, subsampling=0)


def case_jpeg_5000x5000() -> bytes:
    from PIL import Image

    small = Image.effect_noise((500, 500), 60).convert("RGB")
    return _save(small.resize((5000, 5000)), "JPEG", quality=85)


def case_jpeg_phone_4000x3000() -> bytes:
    from PIL import Image

    small = Image.effect_noise((400, 300), 60).convert("RGB")
    return _save(small.resize((4000, 3000)), "JPEG", quality=90)


def case_mpo_phone_4000x3000() -> bytes:
    from PIL import Image

    first = Image.effect_noise((400, 300), 60).convert("RGB").resize((4000, 3000))
    second = first.resize((1000, 750))
    return _save(first, "MPO", save_all=True, append_images=[second], quality=90)


def _save(img, fmt: str, **kwargs) -> bytes:
    out = BytesIO()
    img.save(out, fmt, **kwargs)
    return out.getvalue()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def build(name: str) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{name}.bin"
    if not path.exists():
        path.write_bytes(CASES[name]())
    return path


def _reset_peak_rss() -> int:
    """Current RSS in KB, after resetting the peak (Linux: clear_refs 5); the
    peak of a forked child otherwise starts at its parent's."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return _status("VmRSS")


def _peak_rss() -> int:
    return _status("VmHWM")


def _status(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def run_one(path: Path, module: str | None, settings: dict[str, int]) -> dict:
    """In the child: clean_image() on one file, with its time and RSS growth."""
    from flask_babel import force_locale

    from community import create_app
    from community.config import TestConfig
    from community.core.errors import RuleViolation

    if module:
        spec = importlib.util.spec_from_file_location("uploads_under_test", module)
        uploads = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = uploads  # dataclasses look their module up there
        spec.loader.exec_module(uploads)
    else:
        from community.core import uploads

    app = create_app(
        type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})
    )
    raw = path.read_bytes()
    with app.test_request_context(), force_locale("en"):
        before = _reset_peak_rss()
        start = time.perf_counter()
        try:
            clean = uploads.clean_image(BytesIO(raw))
            outcome = f"stored {clean.extension} {clean.width}x{clean.height} {len(clean.data)} B"
        except RuleViolation as exc:
            outcome = f"refused: {exc.message}"
        seconds = time.perf_counter() - start
        after = _peak_rss()
    return {
        "size": len(raw),
        "seconds": seconds,
        "peak_mb": (after - before) / 1024,
        "rss_mb": after / 1024,
        "outcome": outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append", choices=sorted(CASES))
    parser.add_argument("--module", help="path of another uploads.py to measure")
    parser.add_argument("--set", action="append", default=[], help="SETTING=INTEGER")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        settings = {k: int(v) for k, v in (item.split("=", 1) for item in args.set)}
        print(json.dumps(run_one(Path(args.child), args.module, settings)))
        return
    print(f"{'case':30} {'file':>9} {'time':>8} {'peak+':>9} {'rss':>8}  outcome")
    for name in args.only or CASES:
        path = build(name)
        cmd = [sys.executable, __file__, "--child", str(path)]
        if args.module:
            cmd += ["--module", args.module]
        cmd += [f"--set={item}" for item in args.set]
        done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        if done.returncode:
            print(f"{name:30} child failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{name:30} {r['size'] / 1024:7.0f}KB {r['seconds']:7.3f}s {r['peak_mb']:7.0f}MB"
            f" {r['rss_mb']:6.0f}MB  {r['outcome']}"
        )


if __name__ == "__main__":
    main()
