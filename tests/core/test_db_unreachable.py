"""A database that cannot be reached answers 503 with Retry-After and the 503 page on
every page (never 500), and the app recovers by itself when it is back.

On PostgreSQL the app talks to the server through a small TCP proxy that the test
stops (closing the live connections, refusing new ones) and starts again. On
SQLite the equivalent, a database locked past its busy timeout, is tested in
test_http.py. The suite's rolled-back transaction is switched off here: the app
has a database and connections of its own."""

from __future__ import annotations

import socket
import threading

import flask_migrate
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from community import create_app
from community.accounts.models import User
from community.config import TestConfig
from community.extensions import db
from tests import dbutil
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_role_user

pytestmark = pytest.mark.skipif(
    not dbutil.is_postgres(),
    reason="needs TEST_DATABASE_URL on PostgreSQL (SQLite's locked database: test_http.py)",
)


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: this app commits for real."""


class Proxy:
    """Forwards 127.0.0.1:<port> to a server; stop() closes the listener and every
    live connection (the database is gone), start() listens on the same port again."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
            listener, self._listener = self._listener, None
        for sock in [listener, *sockets]:
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def cut_off():
    """(app, client logged in as a police officer, proxy) on a scratch database
    reached through the proxy; dropped after."""
    direct = dbutil.scratch_url("unreachable")
    url = make_url(direct)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": proxied}))
    cut = {}

    # A page whose database goes away between two of its queries (mid-request).
    def _cut_midway():
        db.session.execute(select(User.id).limit(1)).all()
        cut["done"] = True
        proxy.stop()
        db.session.execute(text("SELECT 1")).all()
        return "not reached"

    app.add_url_rule("/_test/cut-midway", view_func=_cut_midway)
    try:
        with app.app_context():
            flask_migrate.upgrade()
            user = make_role_user(db.session, "police", password=PASSWORD)
            db.session.commit()
            username = user.username
            db.session.remove()
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["locale"] = "en"
        token = csrf_from(client.get("/login").get_data(as_text=True))
        resp = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert resp.status_code == 303
        yield app, client, proxy, cut
    finally:
        proxy.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        from sqlalchemy import create_engine

        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        admin.dispose()


def _unavailable(resp) -> None:
    assert resp.status_code == 503, (resp.status_code, resp.get_data(as_text=True)[:300])
    assert int(resp.headers["Retry-After"]) >= 1
    body = resp.get_data(as_text=True)
    assert 'id="error"' in body and "The system is busy right now" in body


PAGES = ["/residents/", "/sites/", "/"]


def test_pages_answer_503_while_the_database_is_cut_off_and_recover(cut_off):
    app, client, proxy, _cut = cut_off
    for page in PAGES:
        assert client.get(page).status_code == 200, page
    token = csrf_from(client.get("/residents/").get_data(as_text=True))
    proxy.stop()
    for page in PAGES:
        _unavailable(client.get(page))
        _unavailable(client.get(page, headers={"HX-Request": "true"}))
    _unavailable(client.post("/logout", data={"csrf_token": token}))
    assert client.get("/healthz").status_code == 503
    proxy.start()
    # Back without restarting the app, and still logged in.
    for page in PAGES:
        assert client.get(page).status_code == 200, page
    assert client.get("/healthz").status_code == 200


def test_a_database_lost_in_the_middle_of_a_request_answers_503_and_recovers(cut_off):
    app, client, proxy, cut = cut_off
    assert client.get("/residents/").status_code == 200
    _unavailable(client.get("/_test/cut-midway"))
    assert cut["done"]
    proxy.start()
    assert client.get("/residents/").status_code == 200
