"""Flask hello world: the ceiling bench_pages.py measures in the same run, served the
same way (gunicorn, sync workers), so page figures read as a fraction of it. The
POSTs' ceiling is the same app answering the same requests (any path, the form
parsed) with the same text."""

from flask import Flask, request

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"


@app.post("/", defaults={"path": ""})
@app.post("/<path:path>")
def hello_post(path: str) -> str:
    request.form  # noqa: B018 - parsed, as the app parses its forms
    return "Hello, World!"
