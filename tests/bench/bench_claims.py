"""Claim benchmark: 200 volunteers claim 10 duties (10 places each) at once through
gunicorn with 2 sync workers, on a SQLite file or on PostgreSQL (BENCH_DATABASE_URL,
whose schema is emptied first). Prints claims/s, p50/p99 latency, the answers
(303 claimed, 409 full) and the count of overbooked duties, which must be 0.

    .venv/bin/python tests/bench/bench_claims.py [--claims 200] [--duties 10] [--places 10]
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/community_bench ...

Figures, not assertions; not part of the suite.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BIN = ROOT / ".venv" / "bin"

import flask_migrate  # noqa: E402
from flask import g  # noqa: E402
from flask import session as flask_session  # noqa: E402
from flask_login import login_user  # noqa: E402
from flask_wtf.csrf import generate_csrf  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from community import create_app  # noqa: E402
from community.accounts import services as accounts  # noqa: E402
from community.accounts.auth import start_session  # noqa: E402
from community.accounts.models import User  # noqa: E402
from community.config import Config  # noqa: E402
from community.core.timeutil import utcnow  # noqa: E402
from community.duty import services  # noqa: E402
from community.duty.models import PLACE_STATES, DutyClaim, DutyTask  # noqa: E402
from community.extensions import db  # noqa: E402

SECRET = "bench-claims-secret"
DATA_KEY = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdCE="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, claims: int, duties: int, places: int):
    if make_url(url).get_backend_name() == "postgresql":
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    cfg = type(
        "Cfg",
        (Config,),
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "COMMUNITY_DATA_KEY": DATA_KEY},
    )
    app = create_app(cfg)
    with app.app_context():
        flask_migrate.upgrade()
        s = db.session
        district = accounts.create_area(s, "区", "district", None)
        street = accounts.create_area(s, "街道", "street", district)
        area = accounts.create_area(s, "社区", "community", street)
        office = accounts.create_organization(s, "居委会", "community_office", area)
        coordinator = User(username="coord", display_name="coord", password_hash="!")
        s.add(coordinator)
        s.flush()
        accounts.add_membership(s, None, coordinator, "coordinator", office, None)
        users = [
            User(username=f"v{i}", display_name=f"v{i}", password_hash="!") for i in range(claims)
        ]
        s.add_all(users)
        s.flush()
        for user in users:
            accounts.add_membership(s, None, user, "volunteer", None, area)
        start = (utcnow() + timedelta(days=2)).replace(microsecond=0)
        task_ids = []
        for d in range(duties):
            task = services.publish_duty(
                s,
                coordinator,
                services.DutyInput(
                    title=f"duty {d}",
                    kind="mediation",
                    area=area,
                    starts_at=start + timedelta(hours=3 * d),
                    ends_at=start + timedelta(hours=3 * d + 2),
                    capacity=places,
                    points=5,
                ),
            )[0]
            task_ids.append(task.id)
        s.commit()
        user_ids = [u.id for u in users]
        sessions = []
        for uid in user_ids:
            with app.test_request_context():
                login_user(db.session.get(User, uid))
                start_session()
                g.pop("csrf_token", None)  # Flask-WTF caches it on the app context
                token = generate_csrf()
                sessions.append(
                    (
                        app.session_interface.get_signing_serializer(app).dumps(
                            dict(flask_session)
                        ),
                        token,
                    )
                )
        s.remove()
    return app, task_ids, sessions


def post(port: int, path: str, cookie: str, token: str) -> tuple[int, float]:
    began = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(
        "POST",
        path,
        body=urlencode({"csrf_token": token}),
        headers={
            "Cookie": f"session={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    status = conn.getresponse().status
    conn.close()
    return status, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--duties", type=int, default=10)
    parser.add_argument("--places", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-claims-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/claims.db"
    app, task_ids, sessions = prepare(url, args.claims, args.duties, args.places)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "COMMUNITY_DATA_KEY": DATA_KEY,
    }
    cmd = [
        str(BIN / "gunicorn"),
        "--workers",
        str(args.workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "app:app",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        barrier = threading.Barrier(min(args.concurrency, len(sessions)))

        def work(i: int):
            cookie, token = sessions[i]
            if i < barrier.parties:
                barrier.wait()
            return post(port, f"/duties/{task_ids[i % len(task_ids)]}/claim", cookie, token)

        began = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            results = list(pool.map(work, range(len(sessions))))
        wall = time.perf_counter() - began
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    latencies = sorted(t for _s, t in results)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    with app.app_context():
        s = db.session
        held = (
            select(DutyClaim.task_id, func.count().label("n"))
            .where(DutyClaim.status.in_(PLACE_STATES))
            .group_by(DutyClaim.task_id)
            .subquery()
        )
        overbooked = s.scalar(
            select(func.count())
            .select_from(DutyTask)
            .outerjoin(held, held.c.task_id == DutyTask.id)
            .where(
                (DutyTask.taken > DutyTask.capacity)
                | (func.coalesce(held.c.n, 0) != DutyTask.taken)
            )
        )
        total_held = s.scalar(select(func.count()).where(DutyClaim.status.in_(PLACE_STATES)))
        s.remove()
        db.engine.dispose()
    backend = make_url(url).get_backend_name()
    print(f"database: {backend}; gunicorn {args.workers} sync workers; {args.concurrency} clients")
    print(f"claims sent: {len(results)} on {len(task_ids)} duties x {args.places} places")
    print(f"answers: {dict(Counter(s for s, _t in results))}")
    print(
        f"claims/s: {len(results) / wall:,.0f}  p50: {statistics.median(latencies) * 1000:.0f} ms  "
        f"p99: {p99 * 1000:.0f} ms"
    )
    print(f"places held: {total_held} (of {len(task_ids) * args.places})")
    print(f"overbooked duties: {overbooked}")


if __name__ == "__main__":
    main()
