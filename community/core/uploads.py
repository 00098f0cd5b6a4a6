"""Uploaded images: checked by opening them, re-encoded without metadata, stored
under a random name.

A photo taken on a phone carries EXIF data (GPS position, device, time). We
never keep the bytes the user sent: the image is decoded with Pillow (which is
also the proof that it is a JPEG or PNG at all), turned upright according to
its EXIF orientation, and saved anew with no EXIF, XMP, ICC or comment. The
stored file name is random, so it reveals nothing and cannot be guessed. A
phone's multi-picture JPEG (Pillow's "MPO": a second lens, a depth map) is
kept as a plain JPEG of its first picture.

A small file can unpack into a huge picture (a 341 KB PNG of 1 x 39,000,000
16-bit pixels is 312 MB of samples), so everything that decides the cost of
decoding is checked from the header Pillow reads on open, before one pixel is
decoded: pixel count, shape, bits per sample and decoded size. JPEGs are then
decoded directly at a reduced scale (DCT scaling), other images are reduced
right after decoding, before any copy at full size is made.

Files are kept by core.storage (kind "photos"): STORAGE_BACKEND says where.

Settings (all optional except UPLOAD_DIR):
  UPLOAD_DIR                where the local storage backend keeps photos.
  UPLOAD_MAX_BYTES          largest upload (5 MB).
  UPLOAD_MAX_PIXELS         largest width x height (40 million).
  UPLOAD_MAX_DECODED_BYTES  largest width x height x bands x bytes per sample
                            the decoder may produce (48 MiB). Bands count those
                            of the file or of the picture we convert it to,
                            whichever is more (a palette PNG becomes RGB, 3);
                            bytes per sample are the file's (2 for 16-bit PNG).
                            A JPEG counts at the scale it is decoded at, and is
                            decoded smaller rather than refused when it would
                            not fit (a 5000 x 5000 photo is stored 2500 wide);
                            a progressive JPEG's DCT coefficients, which libjpeg
                            holds at full size, may take twice the limit. The
                            whole clean-up peaks at about three times the limit
                            (measure with tests/bench/bench_uploads.py).
  UPLOAD_MAX_ASPECT_RATIO   longest side / shortest side (20). Phone panoramas
                            stay under about 10; one-pixel-wide strips do not.
  UPLOAD_MAX_BIT_DEPTH      bits per sample (8). 16-bit PNGs are refused by
                            default: no phone takes them, they double what the
                            decoder unpacks, and we store 8 bits anyway; set 16
                            to accept them (they are scaled down to 8 bits).
  UPLOAD_MAX_SIDE           longer images are scaled down to this many pixels
                            (2560).
  UPLOAD_MAX_SIDE_PNG       the same for PNGs (1600): encoding a PNG costs about
                            ten times a JPEG of the same size, and a 2560-pixel
                            PNG alone took 0.4 s; a screenshot of a hazard needs
                            no more.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from PIL import ExifTags, Image, ImageMode, UnidentifiedImageError
from werkzeug.exceptions import NotFound
from wtforms.validators import ValidationError

from community.core import storage
from community.core.errors import RuleViolation

# Stored format -> (extension, mimetype). Adding a format here also needs the
# extension in the form's FileAllowed list.
FORMATS = {"JPEG": (".jpg", "image/jpeg"), "PNG": (".png", "image/png")}
# Pillow's format of an accepted upload -> the format it is stored as.
STORED_AS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG"}
MIMETYPES = {ext: mime for ext, mime in FORMATS.values()}
DEFAULT_MAX_PIXELS = 40_000_000  # a 40-megapixel photo is plenty for a hazard
DEFAULT_MAX_DECODED_BYTES = 48 * 1024 * 1024
DEFAULT_MAX_ASPECT_RATIO = 20
DEFAULT_MAX_BIT_DEPTH = 8
DEFAULT_MAX_SIDE = 2560
DEFAULT_MAX_SIDE_PNG = 1600
# Shrinking by an integer factor first, then resampling what is left by at
# least this factor: as good as resampling all at once (Pillow's docs), and
# the full-size picture is copied at most once, as a small image.
REDUCING_GAP = 3.0
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}\.(jpg|png)$")
# EXIF orientation -> the transpose that turns the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    extension: str
    mimetype: str
    width: int
    height: int


def _config(name: str, default: int) -> int:
    return int(current_app.config.get(name) or default)


def max_bytes() -> int:
    return _config("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)


def _size_of(stream: IO[bytes]) -> int:
    position = stream.tell()
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(position)
    return size


def too_large_message() -> str:
    return _("The photo is larger than %(mb)s MB.", mb=f"{max_bytes() / (1024 * 1024):g}")


class MaxUploadBytes:
    """WTForms validator: the uploaded file is at most UPLOAD_MAX_BYTES long."""

    def __call__(self, form, field):
        data = field.data
        if data is None or not getattr(data, "filename", None):
            return
        if _size_of(data.stream) > max_bytes():
            raise ValidationError(too_large_message())


def clean_image(stream: IO[bytes], *, field: str | None = "photo") -> CleanImage:
    """Decode the upload and re-encode it without metadata.

    Raises RuleViolation(field, ...) when the file is too long, is not a JPEG or
    PNG Pillow can decode, or would be costly to decode (too many pixels, too
    long and narrow, too many bits per sample, too large once decoded); those
    are refused from the header, before any pixel is decoded.
    """
    limit = max_bytes()
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise RuleViolation(field, too_large_message())
    not_an_image = _("The file is not a JPEG or PNG image.")
    too_many_pixels = _("The image has too many pixels.")
    too_large_unpacked = _("The image is too large once unpacked. Please send a smaller photo.")
    max_side = _config("UPLOAD_MAX_SIDE", DEFAULT_MAX_SIDE)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(raw)) as probe:
                fmt = STORED_AS.get(probe.format or "")
                if fmt is None or min(probe.size) < 1:
                    raise RuleViolation(field, not_an_image)
                _refuse_costly_shape(probe, raw, field, too_many_pixels)
                probe.verify()  # PNG: chunk checksums; decodes no pixel
            if fmt == "PNG":
                max_side = min(max_side, _config("UPLOAD_MAX_SIDE_PNG", DEFAULT_MAX_SIDE_PNG))
            with Image.open(BytesIO(raw)) as img:
                mode = _working_mode(img, fmt)
                size = _fitted(img.size, max_side)
                max_decoded = _config("UPLOAD_MAX_DECODED_BYTES", DEFAULT_MAX_DECODED_BYTES)
                coefficients = _progressive_jpeg_bytes(img)  # at full size: before the draft
                if fmt == "JPEG":
                    _draft_jpeg(img, mode, size, raw, max_decoded)
                    size = _fitted(img.size, max_side)  # smaller if the draft had to go below
                decoded = _decoded_bytes(img.size, img, raw, mode)  # after the draft
                if decoded > max_decoded or coefficients > 2 * max_decoded:
                    raise RuleViolation(field, too_large_unpacked)
                img.load()
                orientation = img.getexif().get(ExifTags.Base.Orientation)
                small = _downscale(img, mode, size)
            return _encode(small, fmt, orientation)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RuleViolation(field, too_many_pixels) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise RuleViolation(field, not_an_image) from exc


def _bits_per_sample(img: Image.Image, raw: bytes) -> int:
    """Bits per sample the file declares. Pillow's mode may show fewer: it
    reads a 16-bit RGBA PNG as 8-bit "RGBA", so the PNG header and the JPEG
    frame header are read too."""
    bits = int(ImageMode.getmode(img.mode).typestr[2:]) * 8  # "|u1" -> 8, "<u2" -> 16
    if img.format == "PNG" and raw[12:16] == b"IHDR":
        bits = max(bits, raw[24])  # IHDR: width, height, then the bit depth
    return max(bits, getattr(img, "bits", 0))  # JPEG: precision from the SOF marker


def _refuse_costly_shape(img: Image.Image, raw: bytes, field: str | None, too_many_pixels: str):
    width, height = img.size
    if width * height > _config("UPLOAD_MAX_PIXELS", DEFAULT_MAX_PIXELS):
        raise RuleViolation(field, too_many_pixels)
    max_ratio = _config("UPLOAD_MAX_ASPECT_RATIO", DEFAULT_MAX_ASPECT_RATIO)
    if max(width, height) > max_ratio * min(width, height):
        raise RuleViolation(
            field,
            _(
                "The image is too long and narrow: its long side may be at most "
                "%(ratio)s times its short side.",
                ratio=max_ratio,
            ),
        )
    max_bits = _config("UPLOAD_MAX_BIT_DEPTH", DEFAULT_MAX_BIT_DEPTH)
    if _bits_per_sample(img, raw) > max_bits:
        raise RuleViolation(
            field,
            _(
                "The image has more than %(bits)s bits per colour channel. "
                "Please save it as an ordinary JPEG or PNG.",
                bits=max_bits,
            ),
        )


def _decoded_bytes(size: tuple[int, int], img: Image.Image, raw: bytes, mode: str) -> int:
    bands = max(len(img.getbands()), len(mode))
    return size[0] * size[1] * bands * math.ceil(_bits_per_sample(img, raw) / 8)


def _draft_jpeg(img: Image.Image, mode: str, size: tuple[int, int], raw: bytes, max_decoded: int):
    """Have libjpeg decode at 1/2, 1/4 or 1/8 scale: the largest picture at
    least `size`, or, if that would be larger than max_decoded, the largest one
    that is not (a 5000 x 5000 photo is stored 2500 pixels wide, not refused)."""
    width, height = img.size
    scale = min(width // size[0], height // size[1])
    scale = next(s for s in (8, 4, 2, 1) if scale >= s)  # the draft's own choice
    while (
        scale < 8
        and _decoded_bytes((-(-width // scale), -(-height // scale)), img, raw, mode) > max_decoded
    ):
        scale *= 2
    img.draft(mode, (max(1, width // scale), max(1, height // scale)))


def _progressive_jpeg_bytes(img: Image.Image) -> int:
    """libjpeg keeps every DCT coefficient (2 bytes each, 64 per 8 x 8 block) of
    a progressive JPEG in memory while it decodes, at full size whatever the
    scale: one sample's worth per pixel of each component, after subsampling."""
    if not img.info.get("progressive") or not getattr(img, "layer", None):
        return 0
    h_max = max(h for _, h, _, _ in img.layer)
    v_max = max(v for _, _, v, _ in img.layer)
    width, height = img.size
    return sum(
        math.ceil(width * h / h_max / 8) * math.ceil(height * v / v_max / 8) * 64 * 2
        for _, h, v, _ in img.layer
    )


def _working_mode(img: Image.Image, fmt: str) -> str:
    """The mode the stored picture will have: L, RGB, or RGBA for a PNG with transparency."""
    gray = img.mode in ("1", "L") or img.mode.startswith("I")
    if fmt == "PNG" and (
        img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info)
    ):
        return "RGBA"
    return "L" if gray else "RGB"


def _fitted(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """`size` scaled down (never up) so its longer side is at most max_side."""
    width, height = size
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _downscale(img: Image.Image, mode: str, size: tuple[int, int]) -> Image.Image:
    """A new image of `size` in `mode`. Resampling modes Pillow can reduce
    (L, RGB, RGBA ...) are shrunk first and converted small; bilevel and
    palette pictures are converted first (they would resample as nearest
    neighbour); 16-bit samples keep their range until they are small."""
    if img.mode in ("1", "P"):
        img = img.convert(mode)
    if img.size != size:
        gap = None if img.mode.startswith("I;16") else REDUCING_GAP  # reduce() refuses I;16
        img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=gap)
    if img.mode.startswith("I"):
        # convert("L") would clip 16-bit values to 255 (a white picture): scale them.
        img = img.convert("I").point(lambda v: v * (1 / 256))
    return img.convert(mode)


def _encode(img: Image.Image, fmt: str, orientation: int | None) -> CleanImage:
    if orientation in _UPRIGHT:
        img = img.transpose(_UPRIGHT[orientation])
    # A fresh info dict: nothing of the original (EXIF, XMP, ICC, comments, text
    # chunks) can be carried into the saved file by a format plugin's defaults.
    img.info = {}
    out = BytesIO()
    if fmt == "JPEG":
        img.save(out, "JPEG", quality=85, optimize=True)
    else:
        # zlib's fastest level: its time grows with the picture only, while the
        # default level can spend seconds on a crafted 2560 x 2560 picture.
        img.save(out, "PNG", compress_level=1)
    extension, mimetype = FORMATS[fmt]
    return CleanImage(out.getvalue(), extension, mimetype, img.width, img.height)


PHOTOS = "photos"
storage.define_kind(PHOTOS, "UPLOAD_DIR", "uploads")


def upload_dir() -> str:
    """Where the local storage backend keeps photos."""
    return str(current_app.config["UPLOAD_DIR"])


def store(image: CleanImage) -> str:
    """Store the image (core.storage, kind "photos") under a random name; returns
    that name. With the database backend it is written in the request's session."""
    name = secrets.token_urlsafe(24) + image.extension
    storage.save(PHOTOS, name, image.data)
    return name


def is_stored_name(name: str | None) -> bool:
    return bool(name) and bool(_NAME_RE.match(name))


def remove(name: str | None) -> None:
    """Delete a stored file (e.g. when the record that named it was not saved)."""
    if is_stored_name(name):
        storage.delete_file(PHOTOS, name)


def send(name: str | None):
    """A response with the stored file, streamed from the storage backend, never
    cached by shared caches, never sniffed. Raises NotFound for a missing or
    malformed name. The caller checks access."""
    if not is_stored_name(name):
        raise NotFound()
    resp = storage.send(PHOTOS, name, MIMETYPES[os.path.splitext(name)[1]])
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


__all__ = [
    "CleanImage",
    "MaxUploadBytes",
    "clean_image",
    "is_stored_name",
    "max_bytes",
    "remove",
    "send",
    "store",
]
