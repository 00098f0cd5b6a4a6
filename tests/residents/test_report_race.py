"""Reports of one new person at the same moment, under real concurrency on committed
data (scratch.py): the person is created once and no racer gets a 500."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from community.extensions import db
from community.residents.models import Person, Residence
from tests.conftest import csrf_from, logged_in
from tests.factories.residents import id_number
from tests.residents.scratch import scratch_world, twin


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: these tests commit for real."""


def _form(client, room_id: int) -> dict:
    page = client.get(f"/residents/new?room_id={room_id}").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "room_id": room_id,
        "name": "王小明",
        "id_number": id_number(born=date(1988, 3, 4)),
        "phone": "13812345678",
        "move_in": (date.today() - timedelta(days=2)).isoformat(),
        "hometown": "安徽",
        "employer": "",
    }
    token = page.split('name="submission_token"', 1)
    if len(token) == 2:
        data["submission_token"] = token[1].split('value="', 1)[1].split('"', 1)[0]
    return data


def _posted_at_once(clients, data) -> list:
    barrier = threading.Barrier(len(clients))

    def post(client):
        barrier.wait()
        try:
            return client.post("/residents/new", data=data).status_code
        except Exception as exc:  # the test client re-raises what would be a 500
            return f"{type(exc).__name__}: {exc}"[:200]

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(post, clients))


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        people = db.session.scalar(select(func.count()).select_from(Person))
        stays = db.session.scalar(select(func.count()).select_from(Residence))
        db.session.remove()
    return people, stays


def test_five_posts_of_one_report_form_at_once_create_one_person(tmp_path):
    """The same form sent five times at once (double clicks, a flaky network): one
    person, one report; the others get the first one's answer (its one-time token)
    or the duplicate's 409, never a 500."""
    with scratch_world("imp_report", str(tmp_path)) as (app, world):
        first = logged_in(app, world.landlord)
        data = _form(first, world.room_id)
        # The same browser: its session cookie, now holding the form's CSRF secret.
        clients = [first] + [twin(app, first) for _ in range(4)]
        assert "submission_token" in data
        results = _posted_at_once(clients, data)
        assert set(results) <= {303, 409}, results
        assert Counter(results)[303] >= 1, results
        assert _counts(app) == (1, 1)


def test_two_forms_reporting_one_new_person_at_once_create_one_person(tmp_path):
    """Two different forms (two tabs, each its own token) for the same new person in
    rooms 101 and 102: one person, no 500."""
    with scratch_world("imp_report2", str(tmp_path)) as (app, world):
        first = logged_in(app, world.landlord)
        second = twin(app, first)
        data = _form(first, world.room_id)
        other = {**_form(second, world.room_id), "id_number": data["id_number"]}
        other["room_id"] = world.room2_id
        barrier = threading.Barrier(2)

        def post(pair):
            client, form = pair
            barrier.wait()
            try:
                return client.post("/residents/new", data=form).status_code
            except Exception as exc:
                return f"{type(exc).__name__}: {exc}"[:200]

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(post, [(first, data), (second, other)]))
        assert results == [303, 303], results
        assert _counts(app) == (1, 2)
