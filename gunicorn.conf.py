"""gunicorn settings read from the project folder (`gunicorn app:app` finds this file).

Each setting comes from the environment, with gunicorn's own default when unset;
a command-line option (`--workers 2 --bind ...`) or GUNICORN_CMD_ARGS still wins.

The access log: the app writes one line per request (core/logs.py: request id,
method, route rule, status, duration, user id), so gunicorn's own access log is off.
GUNICORN_ACCESS_LOG (a file, or `-` for stdout) turns gunicorn's on instead; the app's
line then goes quiet in every worker (post_worker_init), so no request is logged
twice, and gunicorn's format leaves the query string out (`?q=` may hold an ID number).
"""

import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# gunicorn's default address, which listens on every interface when PORT is set.
bind = os.environ.get("GUNICORN_BIND") or (
    f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000"
)
workers = _env_int("WEB_CONCURRENCY", 1)
# Seconds a worker may stay silent (one request) before the master restarts it.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# time, request id (the app's X-Request-ID), method, path without the query string,
# status, bytes, milliseconds.
access_log_format = '%(t)s [%({x-request-id}o)s] "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = os.environ.get("GUNICORN_ERROR_LOG") or "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"


def when_ready(server):
    """Runs once in the master after the workers' count is final (-w, WEB_CONCURRENCY,
    GUNICORN_CMD_ARGS or a config file): warn when they cannot share rate limits."""
    from community.config import Config, announce_database, shared_storage_warning

    config = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    message = shared_storage_warning(server.cfg.workers, config)
    if message:
        server.log.warning(message)
    # Said once here, in the master: the workers inherit COMMUNITY_DATABASE_ANNOUNCED
    # and their create_app stays quiet.
    announce_database(config, server.log)


def post_worker_init(worker):
    """After the app is loaded in a worker: when gunicorn writes the access log, the
    app writes no request line of its own. Then move everything alive now (modules,
    templates, the app) out of the garbage collector's view, so the collections that
    requests trigger only walk what the requests allocate."""
    import gc

    app = worker.wsgi
    if worker.cfg.accesslog and hasattr(app, "config"):
        app.config["LOG_REQUESTS"] = False
    gc.collect()
    gc.freeze()
