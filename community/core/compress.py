"""HTTP delivery: compressed responses where compression leaks nothing, and
versioned static URLs cached for a year.

Compression (Flask-Compress: brotli, else gzip, with Vary: Accept-Encoding) is
applied by the hook below rather than to every response, because of BREACH: a
compressed body whose length an eavesdropper can watch, carrying a secret next
to text the attacker chooses (`/sites/?q=` is echoed back), gives the secret
away a character at a time. Every full page carries the session's CSRF token
(the meta tag in base.html), so the rule is: a response into which this request
put the CSRF token is sent uncompressed; static files, JSON and htmx fragments
without a form are compressed. Fragments are only fetched with the HX-Request
header, which another site cannot make the user's browser send with their
cookies (a custom header needs CORS; the cookies are SameSite=Lax), so their
personal data is not exposed by the attack either. Compressing full pages would
need a per-response masked CSRF token first.

Static files: `url_for('static', filename=...)` gets `?v=<content hash>`, so a
deploy that changes a file changes its URL, and such a URL is served with
`Cache-Control: public, max-age=<STATIC_MAX_AGE>, immutable`. Not through
SEND_FILE_MAX_AGE_DEFAULT: that also applies to every send_file (hazard photos,
which must stay private).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, g, request
from flask_compress import Compress
from werkzeug.security import safe_join

compress = Compress()


def init_compress(app: Flask) -> None:
    """Register the hooks. Call before any other after_request hook is registered:
    Flask runs them in reverse order, and this one must see the final headers
    (core.security marks responses to logged-in users `no-store`)."""
    compress.init_app(app)  # COMPRESS_REGISTER is False: _deliver decides
    hashes: dict[str, str | None] = {}

    def static_version(filename: str) -> str | None:
        if filename not in hashes or app.debug:
            hashes[filename] = _content_hash(app.static_folder, filename)
        return hashes[filename]

    @app.url_defaults
    def _version_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and values.get("filename"):
            version = static_version(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _deliver(response: Response) -> Response:
        if request.endpoint == "static":
            filename = (request.view_args or {}).get("filename", "")
            version = request.args.get("v")
            if (
                response.status_code in (200, 304)
                and version
                and version == static_version(filename)
            ):
                max_age = app.config["STATIC_MAX_AGE"]
                response.headers["Cache-Control"] = f"public, max-age={max_age}, immutable"
            if response.status_code == 200 and response.direct_passthrough:
                # Read the file into the response (it closes with it): compressed
                # whole it gets a Content-Length, and the file is not left open
                # behind a compressing generator.
                response.direct_passthrough = False
                response.make_sequence()
            return compress.after_request(response)
        if _carries_csrf_token():
            return response
        return compress.after_request(response)


def _carries_csrf_token() -> bool:
    # flask_wtf.csrf.generate_csrf keeps the token it rendered in `g` under the
    # field name; only a page that called csrf_token() can contain it.
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g


def _content_hash(folder: str | None, filename: str) -> str | None:
    path = safe_join(folder, filename) if folder else None
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


__all__ = ["compress", "init_compress"]
