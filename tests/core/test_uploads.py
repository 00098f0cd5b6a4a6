"""Uploaded images are proven images, re-encoded without metadata, stored under random names."""

from __future__ import annotations

import os
from io import BytesIO

import pytest
from PIL import Image

from community.core import uploads
from community.core.errors import RuleViolation
from tests.factories.hazards import gps_exif, image_bytes


@pytest.fixture
def upload_dir(app, app_ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def _open(data: bytes) -> Image.Image:
    img = Image.open(BytesIO(data))
    img.load()
    return img


def test_jpeg_is_reencoded_without_exif_or_gps(upload_dir):
    raw = image_bytes("JPEG", exif=gps_exif())
    assert _open(raw).getexif().get_ifd(0x8825)  # the input really carries GPS
    clean = uploads.clean_image(BytesIO(raw))
    img = _open(clean.data)
    assert img.format == "JPEG"
    assert len(img.getexif()) == 0
    assert not img.getexif().get_ifd(0x8825)
    assert "exif" not in img.info and "xmp" not in img.info
    assert b"Secret Phone" not in clean.data
    assert (clean.extension, clean.mimetype) == (".jpg", "image/jpeg")


def test_exif_orientation_is_applied_before_it_is_dropped(upload_dir):
    # Orientation 6: the camera held the phone upright; the pixels are stored sideways.
    raw = image_bytes("JPEG", size=(64, 48), exif=gps_exif(orientation=6))
    clean = uploads.clean_image(BytesIO(raw))
    assert (clean.width, clean.height) == (48, 64)
    assert _open(clean.data).size == (48, 64)


def test_png_with_transparency_stays_png(upload_dir):
    clean = uploads.clean_image(BytesIO(image_bytes("PNG", mode="RGBA", color=(0, 0, 0, 0))))
    img = _open(clean.data)
    assert (img.format, img.mode, clean.extension) == ("PNG", "RGBA", ".png")


def test_text_file_renamed_to_jpg_is_refused(upload_dir):
    with pytest.raises(RuleViolation) as exc:
        uploads.clean_image(BytesIO(b"just some text, not a picture\n" * 10))
    assert exc.value.field == "photo"


def test_truncated_jpeg_is_refused(upload_dir):
    raw = image_bytes("JPEG", size=(400, 300))
    with pytest.raises(RuleViolation):
        uploads.clean_image(BytesIO(raw[: len(raw) // 2]))


def test_gif_is_refused_even_though_pillow_reads_it(upload_dir):
    with pytest.raises(RuleViolation):
        uploads.clean_image(BytesIO(image_bytes("GIF", mode="P", color=1)))


def test_file_over_the_byte_limit_is_refused(app, upload_dir, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1000)
    with pytest.raises(RuleViolation) as exc:
        uploads.clean_image(BytesIO(b"\xff" * 1001))
    assert "MB" in exc.value.message


def test_too_many_pixels_is_refused(app, upload_dir, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PIXELS", 100 * 100)
    with pytest.raises(RuleViolation):
        uploads.clean_image(BytesIO(image_bytes("PNG", size=(101, 100))))


def test_pillow_decompression_bomb_is_refused(upload_dir, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    # Between the limit and twice the limit Pillow only warns; above it, it raises.
    for size in ((40, 40), (100, 100)):
        with pytest.raises(RuleViolation):
            uploads.clean_image(BytesIO(image_bytes("PNG", size=size)))


def test_big_images_are_scaled_down(app, upload_dir, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_SIDE", 100)
    clean = uploads.clean_image(BytesIO(image_bytes("JPEG", size=(400, 200))))
    assert (clean.width, clean.height) == (100, 50)


def test_store_uses_a_random_name_and_send_serves_it(app, upload_dir):
    clean = uploads.clean_image(BytesIO(image_bytes("PNG")))
    first, second = uploads.store(clean), uploads.store(clean)
    assert first != second
    assert uploads.is_stored_name(first) and first.endswith(".png")
    assert sorted(os.listdir(upload_dir)) == sorted([first, second])  # no temp files left
    with app.test_request_context():
        resp = uploads.send(first)
        resp.direct_passthrough = False
        assert resp.mimetype == "image/png"
        assert "no-store" in resp.headers["Cache-Control"]
        assert resp.get_data() == clean.data
        resp.close()
    uploads.remove(first)
    assert not (upload_dir / first).exists()


@pytest.mark.parametrize("name", ["../secret.jpg", "x.jpg", "a" * 22 + ".svg", "", None])
def test_send_refuses_names_it_did_not_make(app, upload_dir, name):
    from werkzeug.exceptions import NotFound

    with app.test_request_context(), pytest.raises(NotFound):
        uploads.send(name)
