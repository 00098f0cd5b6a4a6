"""An association's officers get a notice when a landlord applies to join (issue 15:
they only saw a count on their start page); the notice opens the review queue."""

from __future__ import annotations

from sqlalchemy import select

from community.core.models import Notification
from community.core.notify import message
from community.places import services
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_role_user


def test_a_landlords_application_notifies_the_associations_officers(
    app, client, login, session, world
):
    officer = make_role_user(session, "association", password=PASSWORD, org=world.association)
    other = make_role_user(session, "association", org=world.west_association)
    session.commit()
    application = services.apply_to_association(session, world.landlord, world.association)
    session.commit()
    notices = list(session.scalars(select(Notification).order_by(Notification.id)))
    assert [(n.user_id, n.kind) for n in notices] == [(officer.id, services.APPLICATION_NOTICE)]
    assert other.id not in {n.user_id for n in notices}
    (notice,) = notices
    assert notice.link == "/reviews/?kind=association"
    assert notice.dedupe_key == f"association-application:{application.id}"
    # The officer reads it on the notices page (Chinese by default) and the link
    # opens the queue holding the application.
    zh = app.test_client()
    token = csrf_from(zh.get("/login").get_data(as_text=True))
    zh.post(
        "/login", data={"username": officer.username, "password": PASSWORD, "csrf_token": token}
    )
    page = zh.get("/notifications/").get_data(as_text=True)
    assert f"{world.landlord.display_name} 申请加入{world.association.name}" in page
    opened = zh.get(f"/notifications/{notice.id}")
    assert opened.status_code == 303 and opened.headers["Location"] == notice.link
    queue = zh.get(notice.link).get_data(as_text=True)
    assert f"{world.landlord.display_name} → {world.association.name}" in queue
    with app.test_request_context("/"):
        from flask_babel import force_locale

        with force_locale("en"):
            assert message(notice.kind, notice.params) == (
                f"{world.landlord.display_name} applied to join {world.association.name}: "
                "approve or decline in the review queue."
            )
