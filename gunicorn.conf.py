"""gunicorn settings read from the project folder (`gunicorn app:app` finds this file).

Only a start-up check: several workers need shared storage for rate limits.
"""


def when_ready(server):
    """Runs once in the master after the workers' count is final (-w, WEB_CONCURRENCY,
    GUNICORN_CMD_ARGS or a config file): warn when they cannot share rate limits."""
    from community.config import Config, shared_storage_warning

    config = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    message = shared_storage_warning(server.cfg.workers, config)
    if message:
        server.log.warning(message)


def post_worker_init(worker):
    """After the app is loaded in a worker: move everything alive now (modules,
    templates, the app) out of the garbage collector's view, so the collections
    that requests trigger only walk what the requests allocate."""
    import gc

    gc.collect()
    gc.freeze()
