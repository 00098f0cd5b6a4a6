"""Flask hello world: the ceiling bench_pages.py measures in the same run, served the
same way (gunicorn, sync workers), so page figures read as a fraction of it."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
