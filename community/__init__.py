"""共治 Community: the application factory."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Config as FlaskConfig
from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from community.config import INSTANCE_DIR, Config, announce_database, site_dir

log = logging.getLogger("community")


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


event.listen(Engine, "connect", _sqlite_pragmas)

# Methods that only read: their transactions never take SQLite's write lock.
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _sqlite_begin(conn) -> None:
    """A write request's transaction takes SQLite's write lock when it begins.

    In WAL mode a transaction that has read and then writes cannot wait for a
    writer that committed meanwhile: SQLite refuses it at once ("database is
    locked", 503) whatever the busy timeout. Two officers deciding the same item
    would get one decision and one 503. BEGIN IMMEDIATE makes the second wait
    (busy timeout) and then read the first one's decision (409). Reading requests
    keep pysqlite's own handling (no lock: readers never wait), and so does work
    outside a request (the worker, the CLI), which takes the lock at its first
    write and waits for it there. (PostgreSQL needs nothing of this: a
    conditional UPDATE waits for the row and re-checks.)"""
    if has_request_context() and request.method not in _READ_METHODS:
        view = current_app.view_functions.get(request.endpoint or "")
        if not getattr(view, "reads_first", False):  # core.once.reads_first
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _init_sqlite_transactions(app: Flask) -> None:
    from community.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "begin", _sqlite_begin)


def _cache_ensure_sync(app: Flask) -> None:
    """Flask asks `ensure_sync` about every hook and view on every request (fifteen
    times a page), and each answer inspects the function's code flags; a function
    does not turn into a coroutine function later, so the answer is kept per process."""
    ask = app.ensure_sync
    plain: dict[Any, bool] = {}

    def ensure_sync(func):
        try:
            known = plain.get(func)
        except TypeError:  # an unhashable callable: ask every time
            return ask(func)
        if known:
            return func
        synced = ask(func)
        if known is None:
            plain[func] = synced is func
        return synced

    app.ensure_sync = ensure_sync


def _init_data_version(app: Flask) -> None:
    """Every writing transaction replaces the data version's token (core.writes)."""
    from community.core.writes import init_versions
    from community.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            init_versions(engine)


def _load_instance_config(app: Flask) -> None:
    """instance/config.py (written by `make run`) holds this machine's local keys;
    a setting given in the environment wins over it."""
    local = FlaskConfig(app.instance_path)
    if not local.from_pyfile("config.py", silent=True):
        return
    for key, value in local.items():
        if key not in os.environ:
            app.config[key] = value


def create_app(config: Any = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(site_dir("templates")),
        static_folder=str(site_dir("static")),
    )
    app.config.from_object(config or Config)
    if isinstance(config, dict):
        app.config.update(config)
    if config is None:
        _load_instance_config(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # How long a writer waits for another one's lock (pysqlite's timeout is
        # SQLite's busy timeout); past it the request answers 503 (see _busy).
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {
            **options.get("connect_args", {}),
            "timeout": app.config["SQLITE_BUSY_TIMEOUT"],
        }
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("SECRET_KEY"):
        if app.debug or app.testing:
            app.config["SECRET_KEY"] = os.urandom(32).hex()
        else:
            sys.exit(
                "SECRET_KEY is not set: export SECRET_KEY=<random string> "
                "(on a development machine, `make run` writes one to instance/config.py)."
            )
    try:  # every "today" is the local date there (core.timeutil)
        ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        sys.exit(
            f"COMMUNITY_TIMEZONE={app.config['BABEL_DEFAULT_TIMEZONE']!r} is not a time zone "
            "name (for example Asia/Shanghai)."
        )
    from community.core.health import HealthCheck
    from community.core.logs import configure_logging
    from community.core.security import SecureCookiesOverHttps

    configure_logging(app.config)  # once per process: the first app's settings

    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    app.wsgi_app = HealthCheck(app.wsgi_app, lambda: _engine_of(app))
    if app.config.get("PROXY_FIX"):
        n = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    os.makedirs(app.instance_path, exist_ok=True)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    _cache_ensure_sync(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_errors(app)

    from community.cli import register_cli

    register_cli(app)
    announce_database(app.config, log)
    return app


def _init_extensions(app: Flask) -> None:
    from community.accounts.auth import init_auth
    from community.core.compress import init_compress
    from community.core.htmx import htmx
    from community.core.inputs import init_form_names, init_inputs
    from community.core.logs import init_logs
    from community.core.security import init_security
    from community.core.templating import init_templating
    from community.extensions import babel, csrf, db, limiter, login_manager, migrate

    # First: its after_request hook then runs last, on the final headers.
    init_compress(app)
    init_logs(app)  # the request id before any other hook, the request line at the end
    db.init_app(app)
    _init_sqlite_transactions(app)
    _init_data_version(app)
    migrate.init_app(
        app,
        db,
        directory=str(site_dir("migrations")),
        render_as_batch=True,
        compare_type=True,
    )
    init_form_names(app)  # before the CSRF check, which reads every field's name
    csrf.init_app(app)
    init_inputs(app)  # after the CSRF check, before any hook or view reads the input
    htmx.init_app(app)
    login_manager.init_app(app)
    if app.config.get("REDIS_URL") and app.config.get("RATELIMIT_STORAGE_URI") == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    init_auth(app)
    init_security(app)
    init_templating(app)

    # Import models so metadata (and migrations) know every table.
    import community.models  # noqa: F401


def _select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and background work speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: ids fit the database's 32-bit integer columns, so a
    larger number is simply no match (404) instead of a database error."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        from community.core.validators import MAX_ID

        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    from community.accounts import admin_bp
    from community.accounts import bp as accounts_bp
    from community.assessments import bp as assessments_bp
    from community.audit import bp as audit_bp
    from community.dashboard import bp as dashboard_bp
    from community.duty import bp as duty_bp
    from community.duty.shell import shell_bp as duty_shell_bp
    from community.hazards import bp as hazards_bp
    from community.inspections import bp as inspections_bp
    from community.mediation import bp as mediation_bp
    from community.notifications import bp as notifications_bp
    from community.outreach import bp as outreach_bp
    from community.places import bp as places_bp
    from community.residents import bp as residents_bp
    from community.reviews import bp as reviews_bp

    for blueprint in (
        accounts_bp,
        admin_bp,
        places_bp,
        inspections_bp,
        hazards_bp,
        assessments_bp,
        residents_bp,
        dashboard_bp,
        notifications_bp,
        audit_bp,
        duty_bp,
        mediation_bp,
        duty_shell_bp,
        outreach_bp,
        reviews_bp,
    ):
        app.register_blueprint(blueprint)


def _register_errors(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from community.core.htmx import render
    from community.core.logs import request_id, route

    def _page(code: int, description: str | None = None, reference: str | None = None):
        from community.extensions import db, login_manager

        if code >= 500:
            try:
                db.session.rollback()
            except Exception:  # noqa: BLE001 - the database may be what failed  # nosec B110
                pass
        if code == 503:
            # The database is locked or unreachable: the page must not need it. The
            # user (expired by the rollback, or never loaded) would be read again by
            # the navigation bar and the language choice, fail again and make the
            # answer a 500; the page shows as to a visitor, in the session's language.
            g._login_user = login_manager.anonymous_user()  # Flask-Login's request user
        return render(
            "errors/error.html",
            "error",
            code=code,
            description=description,
            reference=reference,
            status=code,
        )

    @app.errorhandler(SecurityError)
    def _untrusted_host(exc: SecurityError):
        # No URL can be built for a host outside TRUSTED_HOSTS: a plain answer.
        return Response("400 Bad Request: unknown host\n", 400, mimetype="text/plain")

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return _page(400, "csrf")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        return _page(exc.code, exc.description if exc.code in (409, 422) else None)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def _busy(exc: Exception):
        # A lock wait that ran out (SQLite "database is locked", a PostgreSQL lock or
        # statement timeout) or a database that is unreachable, on connecting or in the
        # middle of the request: the request saved nothing, so the client may simply
        # try again. A lost connection is thrown away by SQLAlchemy and every pooled
        # one is pinged before use (pool_pre_ping), so pages work again by themselves
        # once the database is back.
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            route(),
            type(getattr(exc, "orig", None) or exc).__name__,
        )
        resp = _page(503)
        resp.headers["Retry-After"] = "2"
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # The request id is the 500 page's 错误编号 (error reference): a user quotes
        # it, the operator finds this record (and the request line) by it.
        reference = request_id()
        log.error(
            "error %s: unhandled %s on %s %s",
            reference,
            type(exc).__name__,
            request.method,
            route(),
            exc_info=exc,
        )
        return _page(500, reference=reference)


__all__ = ["create_app"]


def _engine_of(app: Flask):
    from community.extensions import db

    with app.app_context():
        return db.engine
