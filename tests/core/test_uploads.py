"""Uploaded images are proven images, re-encoded without metadata, stored under random names."""

from __future__ import annotations

import os
import re
import struct
import zlib
from io import BytesIO

import pytest
from flask_babel import force_locale
from PIL import Image, ImageFile
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from community.core import storage, uploads
from community.core.errors import RuleViolation
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.hazards import gps_exif, image_bytes
from tests.factories.places import make_site


@pytest.fixture
def upload_dir(app, app_ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    with force_locale("en"):  # the tests read the English msgids
        yield tmp_path / "uploads"


@pytest.fixture
def no_decoding(monkeypatch):
    """Any attempt to decode pixel data (ImageFile.load, which every format
    plugin here uses) fails the test."""

    def refuse(self):
        raise AssertionError(f"decoded {self.format} {self.size}")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def png_by_hand(width, height, *, bit_depth=8, colour_type=2, row=None) -> bytes:
    """A PNG written without Pillow (which cannot write 16-bit RGBA); every
    scanline is `row` (filter byte included), zeros by default."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = row or b"\0" * (1 + (width * channels * bit_depth + 7) // 8)
    packer = zlib.compressobj(9)
    batch = max(1, 65536 // len(row))
    parts = [packer.compress(row * batch) for _ in range(height // batch)]
    parts += [packer.compress(row * (height % batch)), packer.flush()]

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def probe_png():
    """The security probe's file: 341 KB, 1 x 39,000,000 pixels of 16-bit RGBA
    (312 MB of samples once decoded)."""
    return png_by_hand(1, 39_000_000, bit_depth=16, colour_type=6)


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
    assert storage.keys(uploads.PHOTOS) == sorted([first, second])
    if upload_dir.exists():  # the local backend: no temporary file left either
        assert sorted(os.listdir(upload_dir)) == sorted([first, second])
    with app.test_request_context():
        resp = uploads.send(first)
        resp.direct_passthrough = False
        assert resp.mimetype == "image/png"
        assert "no-store" in resp.headers["Cache-Control"]
        assert resp.get_data() == clean.data
        resp.close()
    uploads.remove(first)
    assert not storage.exists(uploads.PHOTOS, first) and not (upload_dir / first).exists()


@pytest.mark.parametrize("name", ["../secret.jpg", "x.jpg", "a" * 22 + ".svg", "", None])
def test_send_refuses_names_it_did_not_make(app, upload_dir, name):
    from werkzeug.exceptions import NotFound

    with app.test_request_context(), pytest.raises(NotFound):
        uploads.send(name)


# --- costly images are refused from their header ------------------------------


def test_probe_png_of_one_by_39_million_pixels_is_refused_without_decoding(
    upload_dir, no_decoding, probe_png
):
    assert len(probe_png) < 400_000
    with pytest.raises(RuleViolation) as exc:
        uploads.clean_image(BytesIO(probe_png))
    assert exc.value.field == "photo"
    assert "too long and narrow" in exc.value.message


def test_image_over_the_decoded_size_limit_is_refused_without_decoding(
    app, upload_dir, monkeypatch, no_decoding
):
    raw = image_bytes("PNG", size=(300, 200))  # RGB: 180,000 bytes decoded
    monkeypatch.setitem(app.config, "UPLOAD_MAX_DECODED_BYTES", 300 * 200 * 3 - 1)
    with pytest.raises(RuleViolation) as exc:
        uploads.clean_image(BytesIO(raw))
    assert "too large once unpacked" in exc.value.message


def test_image_at_the_decoded_size_limit_is_accepted(app, upload_dir, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_DECODED_BYTES", 300 * 200 * 3)
    clean = uploads.clean_image(BytesIO(image_bytes("PNG", size=(300, 200))))
    assert (clean.width, clean.height) == (300, 200)


def test_palette_png_counts_the_rgb_picture_it_becomes(app, upload_dir, monkeypatch, no_decoding):
    raw = image_bytes("PNG", size=(300, 200), mode="P", color=3)  # 1 byte a pixel in the file
    monkeypatch.setitem(app.config, "UPLOAD_MAX_DECODED_BYTES", 300 * 200 * 3 - 1)
    with pytest.raises(RuleViolation) as exc:
        uploads.clean_image(BytesIO(raw))
    assert "too large once unpacked" in exc.value.message


def test_16_bit_png_counts_two_bytes_per_sample(app, upload_dir, monkeypatch, no_decoding):
    # Pillow reads it as 8-bit "RGBA"; the header says 16 bits: 8 bytes a pixel.
    raw = png_by_hand(100, 100, bit_depth=16, colour_type=6)
    assert Image.open(BytesIO(raw)).mode == "RGBA"
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BIT_DEPTH", 16)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_DECODED_BYTES", 100 * 100 * 8 - 1)
    with pytest.raises(RuleViolation) as exc:
        uploads.clean_image(BytesIO(raw))
    assert "too large once unpacked" in exc.value.message


@pytest.mark.parametrize("size", [(21, 1), (1, 21), (2100, 100)])
def test_long_narrow_image_is_refused_without_decoding(upload_dir, no_decoding, size):
    with pytest.raises(RuleViolation) as exc:
        uploads.clean_image(BytesIO(image_bytes("PNG", size=size)))
    assert "too long and narrow" in exc.value.message
    assert "20 times" in exc.value.message


def test_image_at_the_aspect_ratio_limit_is_accepted(upload_dir):
    clean = uploads.clean_image(BytesIO(image_bytes("PNG", size=(1600, 80))))
    assert (clean.width, clean.height) == (1600, 80)


def test_png_is_stored_at_most_1600_pixels_wide(upload_dir):
    """Encoding a PNG costs ten times a JPEG: PNGs get a smaller longest side."""
    clean = uploads.clean_image(BytesIO(image_bytes("PNG", size=(2000, 100))))
    assert (clean.width, clean.height) == (1600, 80)


def test_aspect_ratio_limit_is_a_setting(app, upload_dir, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_ASPECT_RATIO", 2)
    with pytest.raises(RuleViolation) as exc:
        uploads.clean_image(BytesIO(image_bytes("JPEG", size=(64, 31))))
    assert "2 times" in exc.value.message


@pytest.mark.parametrize("colour_type", [0, 2, 6])  # gray, RGB, RGBA
def test_16_bit_png_is_refused_by_default_without_decoding(upload_dir, no_decoding, colour_type):
    raw = png_by_hand(10, 10, bit_depth=16, colour_type=colour_type)
    with pytest.raises(RuleViolation) as exc:
        uploads.clean_image(BytesIO(raw))
    assert "more than 8 bits per colour channel" in exc.value.message


def test_16_bit_gray_png_when_allowed_keeps_its_tones(app, upload_dir, monkeypatch):
    # convert("L") would clip every 16-bit value above 255 to white.
    row = b"\0" + struct.pack(">H", 0x8000) * 10
    raw = png_by_hand(10, 10, bit_depth=16, colour_type=0, row=row)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BIT_DEPTH", 16)
    img = _open(uploads.clean_image(BytesIO(raw)).data)
    assert img.mode == "L"
    assert img.getextrema() == (128, 128)


# --- JPEGs are decoded small ------------------------------------------------------


def test_jpeg_over_the_decoded_size_limit_is_decoded_smaller_not_refused(
    app, upload_dir, monkeypatch
):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_DECODED_BYTES", 400 * 400 * 3 - 1)
    clean = uploads.clean_image(BytesIO(image_bytes("JPEG", size=(400, 400))))
    assert (clean.width, clean.height) == (200, 200)  # libjpeg decoded it at 1/2


def test_progressive_jpeg_coefficients_count_at_full_size(
    app, upload_dir, monkeypatch, no_decoding
):
    img = Image.new("RGB", (256, 256), (10, 200, 30))
    out = BytesIO()
    img.save(out, "JPEG", progressive=True, subsampling=0)  # 3 x 256 x 256 x 2 bytes
    monkeypatch.setitem(app.config, "UPLOAD_MAX_DECODED_BYTES", 256 * 256 * 3 - 1)
    with pytest.raises(RuleViolation) as exc:
        uploads.clean_image(BytesIO(out.getvalue()))
    assert "too large once unpacked" in exc.value.message


def test_ordinary_phone_photo_is_stored_at_the_longest_side(upload_dir):
    raw = image_bytes("JPEG", size=(3000, 2000), exif=gps_exif())
    clean = uploads.clean_image(BytesIO(raw))
    assert (clean.width, clean.height) == (2560, 1707)
    assert _open(clean.data).size == (2560, 1707)
    assert len(_open(clean.data).getexif()) == 0


# --- phone multi-picture JPEGs ----------------------------------------------------


def test_multi_picture_jpeg_is_stored_as_its_first_picture_without_exif(upload_dir):
    first = Image.new("RGB", (64, 48), (200, 30, 30))
    second = Image.new("RGB", (32, 24), (30, 30, 200))
    out = BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second], exif=gps_exif())
    raw = out.getvalue()
    with Image.open(BytesIO(raw)) as sent:
        assert (sent.format, sent.n_frames) == ("MPO", 2)
        assert sent.getexif().get_ifd(0x8825)  # the input really carries GPS
    clean = uploads.clean_image(BytesIO(raw))
    img = _open(clean.data)
    assert (clean.extension, clean.mimetype) == (".jpg", "image/jpeg")
    assert (img.format, img.size, getattr(img, "n_frames", 1)) == ("JPEG", (64, 48), 1)
    assert img.getpixel((10, 10))[0] > 150  # the red first picture, not the blue one
    assert len(img.getexif()) == 0 and "mp" not in img.info and "mpinfo" not in img.info
    assert b"Secret Phone" not in clean.data


# --- end to end -------------------------------------------------------------------


def test_posting_the_probe_png_as_a_hazard_photo_is_422_with_the_message(
    session, login, client, upload_dir, no_decoding, probe_png
):
    community = make_area_tree(session)[2]
    site = make_site(session, area=community)
    volunteer = make_role_user(session, "volunteer", area=community, password=PASSWORD)
    session.commit()
    login(volunteer)
    path = f"/sites/{site.id}/hazards/new"
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'name="submission_token" type="hidden" value="([^"]+)"', html).group(1)
    data = MultiDict(
        {
            "description": "Bikes charging in the stairwell",
            "severity": "high",
            "csrf_token": csrf_from(html),
            "submission_token": token,
            "photo": FileStorage(stream=BytesIO(probe_png), filename="probe.png"),
        }
    )
    boundary, body = encode_multipart(data)  # in memory: no spooled temporary file
    resp = client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert resp.status_code == 422
    assert "too long and narrow" in resp.get_data(as_text=True)
    assert storage.keys(uploads.PHOTOS) == []
    assert not upload_dir.exists() or not any(upload_dir.iterdir())
