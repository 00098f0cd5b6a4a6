"""The assessments section of the start page: a landlord sees the sites whose
assessment of last month is still to submit (not started, draft, sent back) with a
link to start or open it, and earlier assessments sent back; submitted or approved
ones are not listed."""

from __future__ import annotations

import re
from datetime import timedelta

from community.assessments.services import last_complete_month
from tests.conftest import PASSWORD
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.assessments import make_assessment
from tests.factories.places import make_site


def _section(html):
    match = re.search(r'<section id="start-assessments".*?</section>', html, re.S)
    return match.group(0) if match else None


def test_landlord_sees_assessments_to_submit_and_sent_back(client, login, session):
    _, street, community = make_area_tree(session)
    landlord = make_role_user(session, "landlord", password=PASSWORD, area=community)
    month = last_complete_month()
    earlier = (month - timedelta(days=1)).replace(day=1)
    sites = {
        name: make_site(session, area=community, landlord=landlord, name=name)
        for name in ("A未开始", "B草稿", "C退回", "D已提交", "E已通过")
    }
    draft = make_assessment(session, site=sites["B草稿"], month=month, status="draft")
    back = make_assessment(
        session, site=sites["C退回"], month=month, status="rejected", reason="照片不清"
    )
    make_assessment(session, site=sites["D已提交"], month=month, status="submitted")
    make_assessment(
        session, site=sites["E已通过"], month=month, status="approved", score=90, stars=5
    )
    old_back = make_assessment(
        session, site=sites["E已通过"], month=earlier, status="rejected", reason="缺少记录"
    )
    make_site(session, area=community, name="别人的")  # not theirs
    session.commit()
    login(landlord)
    section = _section(client.get("/").get_data(as_text=True))
    assert f"3 sites to assess for {month:%Y-%m}" in section
    assert f'href="/sites/{sites["A未开始"].id}/assessments"' in section
    assert f'href="/assessments/{draft.id}"' in section
    assert f'href="/assessments/{back.id}"' in section
    listed = re.findall(r'<li id="start-assessment-site-(\d+)">', section)
    assert {int(i) for i in listed} == {sites[n].id for n in ("A未开始", "B草稿", "C退回")}
    assert "1 earlier assessment sent back" in section
    assert f'href="/assessments/{old_back.id}"' in section and "缺少记录" in section


def test_everything_submitted_no_section(client, login, session):
    _, street, community = make_area_tree(session)
    landlord = make_role_user(session, "landlord", password=PASSWORD, area=community)
    site = make_site(session, area=community, landlord=landlord)
    make_assessment(session, site=site, month=last_complete_month(), status="submitted")
    session.commit()
    login(landlord)
    assert _section(client.get("/").get_data(as_text=True)) is None
