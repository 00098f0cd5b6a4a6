"""Uploaded images: checked by opening them, re-encoded without metadata, stored
under a random name.

A photo taken on a phone carries EXIF data (GPS position, device, time). We
never keep the bytes the user sent: the image is decoded with Pillow (which is
also the proof that it is a JPEG or PNG at all), turned upright according to
its EXIF orientation, and saved anew with no EXIF, XMP, ICC or comment. The
stored file name is random, so it reveals nothing and cannot be guessed.

Settings: UPLOAD_DIR (where files live), UPLOAD_MAX_BYTES (largest upload),
UPLOAD_MAX_PIXELS (optional; largest width x height accepted) and
UPLOAD_MAX_SIDE (optional; longer images are scaled down to this many pixels).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import IO

from flask import current_app, send_from_directory
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from wtforms.validators import ValidationError

from community.core.errors import RuleViolation

# Pillow format -> (extension, mimetype). Adding a format here also needs the
# extension in the form's FileAllowed list.
FORMATS = {"JPEG": (".jpg", "image/jpeg"), "PNG": (".png", "image/png")}
MIMETYPES = {ext: mime for ext, mime in FORMATS.values()}
DEFAULT_MAX_PIXELS = 40_000_000  # a 40-megapixel photo is plenty for a hazard
DEFAULT_MAX_SIDE = 2560
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}\.(jpg|png)$")


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
    PNG Pillow can decode, or has too many pixels (a decompression bomb).
    """
    limit = max_bytes()
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise RuleViolation(field, too_large_message())
    not_an_image = _("The file is not a JPEG or PNG image.")
    too_many_pixels = _("The image has too many pixels.")
    max_pixels = _config("UPLOAD_MAX_PIXELS", DEFAULT_MAX_PIXELS)
    max_side = _config("UPLOAD_MAX_SIDE", DEFAULT_MAX_SIDE)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(raw)) as probe:
                fmt = probe.format
                width, height = probe.size
                if fmt not in FORMATS:
                    raise RuleViolation(field, not_an_image)
                if width * height > max_pixels:
                    raise RuleViolation(field, too_many_pixels)
                probe.verify()  # structural check without decoding every pixel
            with Image.open(BytesIO(raw)) as img:
                if fmt == "JPEG":
                    img.draft("RGB", (max_side, max_side))  # decode big JPEGs at lower scale
                img.load()
                upright = ImageOps.exif_transpose(img)
                return _encode(upright, fmt, max_side)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RuleViolation(field, too_many_pixels) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise RuleViolation(field, not_an_image) from exc


def _encode(img: Image.Image, fmt: str, max_side: int) -> CleanImage:
    has_alpha = img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info)
    if fmt == "JPEG":
        img = img.convert("L" if img.mode in ("L", "1") else "RGB")
    else:
        img = img.convert("RGBA" if has_alpha else ("L" if img.mode in ("L", "1") else "RGB"))
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A fresh info dict: nothing of the original (EXIF, XMP, ICC, comments, text
    # chunks) can be carried into the saved file by a format plugin's defaults.
    img.info = {}
    out = BytesIO()
    if fmt == "JPEG":
        img.save(out, "JPEG", quality=85, optimize=True)
    else:
        img.save(out, "PNG", optimize=False)
    extension, mimetype = FORMATS[fmt]
    return CleanImage(out.getvalue(), extension, mimetype, img.width, img.height)


def upload_dir() -> str:
    return str(current_app.config["UPLOAD_DIR"])


def store(image: CleanImage) -> str:
    """Write the image under UPLOAD_DIR with a random name; returns that name."""
    directory = upload_dir()
    os.makedirs(directory, exist_ok=True)
    name = secrets.token_urlsafe(24) + image.extension
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(image.data)
        os.replace(tmp, os.path.join(directory, name))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return name


def is_stored_name(name: str | None) -> bool:
    return bool(name) and bool(_NAME_RE.match(name))


def remove(name: str | None) -> None:
    """Delete a stored file (e.g. when the record that named it was not saved)."""
    if not is_stored_name(name):
        return
    try:
        os.unlink(os.path.join(upload_dir(), name))
    except FileNotFoundError:
        pass


def send(name: str | None):
    """A response with the stored file, never cached by shared caches, never sniffed.
    Raises NotFound for a missing or malformed name. The caller checks access."""
    from werkzeug.exceptions import NotFound

    if not is_stored_name(name):
        raise NotFound()
    extension = os.path.splitext(name)[1]
    resp = send_from_directory(
        upload_dir(), name, mimetype=MIMETYPES[extension], max_age=0, conditional=True
    )
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
