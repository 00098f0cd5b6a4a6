"""QR codes as inline SVG (segno), for printable posters without image files."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(url: str, scale: int = 6) -> Markup:
    """An <svg> of the QR code for `url`. segno writes only geometry (the URL is not
    echoed as text), so the markup is safe to insert as is."""
    code = segno.make(url, error="m")
    return Markup(code.svg_inline(scale=scale, dark="#000", light="#fff", border=2, omitsize=True))
