"""The case's workflow after intake:

    new --accept (lead assigns mediators)--> accepted --conclude--> concluded --close--> closed
     \\--conclude (withdrawn)------------------------------------^       |
                                               agreement: follow-up (回访) before closing

Every step is one conditional UPDATE (common.advance: 409 naming who acted first),
a timeline line, an audit event and a notice to the people concerned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from community.accounts.models import Membership, Organization, User
from community.core import audit
from community.core.crypto import lookup_hash
from community.core.errors import Conflict, RuleViolation
from community.core.notify import notify
from community.core.reviews import REASON_LENGTH, require_reason
from community.core.timeutil import today, utcnow
from community.mediation.models import (
    OUTCOMES,
    REFERRALS,
    CaseMediator,
    CaseParty,
    MediationCase,
    MediationMember,
)
from community.mediation.services.common import (
    ACCEPTED,
    ASSIGNED_NOTICE,
    CLOSED,
    CLOSED_NOTICE,
    CONCLUDED,
    CONCLUDED_NOTICE,
    FOLLOWED_UP,
    OBJECTION,
    OBJECTION_NOTICE,
    OVERDUE,
    OVERDUE_NOTICE,
    REVEALED,
    add_event,
    advance,
    case_link,
    case_people,
    setting,
    team_leads,
    tell,
)

OUTCOME_WORDS = {"agreement": "agreement", "referred": "referred", "withdrawn": "withdrawn"}


def team_members(session: Session, team_id: int) -> list[MediationMember]:
    return list(
        session.scalars(
            select(MediationMember)
            .where(MediationMember.team_id == team_id)
            .order_by(MediationMember.position, MediationMember.id)
        )
    )


def conflict_findings(session: Session, case: MediationCase, user: User) -> str | None:
    """The conflict check (回避) of one mediator against the case's parties: the
    mediator is a party (same name or phone), shares a phone with a party of this
    case or of an earlier case of one of these parties, or belongs to an
    organisation a party names. None when nothing was found."""
    parties = list(session.scalars(select(CaseParty).where(CaseParty.case_id == case.id)))
    found = []
    phone = (user.phone or "").replace(" ", "")
    mine = lookup_hash(phone) if phone else None
    names = {p.name for p in parties}
    if user.display_name in names:
        found.append(_("has the name of a party"))
    hashes = {p.phone_hash for p in parties}
    if mine and mine in hashes:
        found.append(_("shares a phone with a party"))
    elif mine:
        earlier = select(CaseParty.case_id).where(
            CaseParty.phone_hash.in_(sorted(hashes)), CaseParty.case_id != case.id
        )
        if session.scalar(
            select(CaseParty.id).where(CaseParty.case_id.in_(earlier), CaseParty.phone_hash == mine)
        ):
            found.append(_("was a party to an earlier case with a party of this one"))
    orgs = set(
        session.scalars(
            select(Organization.name)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user.id)
        )
    )
    if orgs & {p.organization for p in parties if p.organization}:
        found.append(_("belongs to an organisation a party named"))
    return "; ".join(found) or None


@dataclass(frozen=True)
class Assignment:
    lead_mediator_id: int
    other_ids: tuple[int, ...] = ()
    confirm_reason: str | None = None


def accept_case(
    session: Session, lead: Any, case: MediationCase, data: Assignment
) -> MediationCase:
    """new -> accepted: the team lead assigns the lead mediator and others (members
    of the case's team). A mediator the conflict check flags needs the lead's
    confirmation with a reason: RuleViolation("confirm_reason") naming them.
    RuleViolation("lead_mediator_id"/"other_ids") for a non-member; Conflict when
    someone accepted (or withdrew) it first."""
    members = {m.user_id: m for m in team_members(session, case.team_id)}
    chosen = [data.lead_mediator_id, *[i for i in data.other_ids if i != data.lead_mediator_id]]
    if data.lead_mediator_id not in members:
        raise RuleViolation("lead_mediator_id", _("Choose a member of the case's team."))
    if any(i not in members for i in chosen):
        raise RuleViolation("other_ids", _("Choose members of the case's team."))
    flags = {i: conflict_findings(session, case, members[i].user) for i in chosen}
    flagged = [members[i].user.display_name for i, f in flags.items() if f]
    reason = " ".join((data.confirm_reason or "").split()) or None
    if flagged and not reason:
        raise RuleViolation(
            "confirm_reason",
            _(
                "The conflict check flags %(names)s: give the reason to assign them anyway.",
                names="、".join(flagged),
            ),
        )
    if not flagged:
        reason = None
    elif len(reason) > REASON_LENGTH:
        raise RuleViolation("confirm_reason", _("At most %(n)d characters.", n=REASON_LENGTH))
    now = utcnow()
    advance(
        session,
        case,
        lead,
        ("new",),
        status="accepted",
        accepted_at=now,
        accepted_by_id=lead.id,
        conclude_due=today() + timedelta(days=setting("MEDIATION_CONCLUDE_DAYS")),
        overdue=False,
    )
    for user_id in chosen:
        session.add(
            CaseMediator(
                case_id=case.id,
                user_id=user_id,
                is_lead=user_id == data.lead_mediator_id,
                conflict=flags[user_id],
                confirm_reason=reason if flags[user_id] else None,
                assigned_by_id=lead.id,
            )
        )
    names = "、".join(members[i].user.display_name for i in chosen)
    note = names + (f" — {_('confirmed despite the conflict check')}: {reason}" if reason else "")
    add_event(session, case, lead, "accepted", note)
    audit.record(
        session,
        lead,
        ACCEPTED,
        case,
        {"mediators": chosen, "lead": data.lead_mediator_id, "flagged": bool(flagged)},
    )
    tell(session, chosen, ASSIGNED_NOTICE, case)
    session.flush()
    return case


def record_objection(
    session: Session,
    actor: Any,
    case: MediationCase,
    party: CaseParty,
    mediator: CaseMediator,
    reason: str,
) -> MediationCase:
    """A party objects to an assigned mediator: a timeline line (the party's role and
    position, never their name in the notice) and a notice to the team's leads."""
    if party is None or party.case_id != case.id:
        raise RuleViolation("party_id", _("Choose a party of this case."))
    if mediator is None or mediator.case_id != case.id:
        raise RuleViolation("mediator_id", _("Choose a mediator of this case."))
    if case.status not in ("new", "accepted"):
        raise Conflict(_("The case is concluded: objections are no longer recorded."))
    reason = require_reason(reason, _("Say what the party objects to."), limit=500)
    name = mediator.user.display_name
    add_event(session, case, actor, "objection", f"{party.position} → {name}: {reason}")
    audit.record(session, actor, OBJECTION, case, {"party": party.id, "mediator": mediator.user_id})
    tell(session, team_leads(session, case.team_id), OBJECTION_NOTICE, case, mediator=name)
    session.flush()
    return case


@dataclass(frozen=True)
class Outcome:
    outcome: str
    terms: str | None = None
    settled_amount: int | None = None
    payment_schedule: str | None = None
    referral: str | None = None
    reason: str | None = None


def conclude_case(
    session: Session, actor: Any, case: MediationCase, data: Outcome
) -> MediationCase:
    """accepted -> concluded with the outcome: an agreement (terms required; the
    follow-up falls due MEDIATION_FOLLOWUP_DAYS later), no agreement (referred to
    court, arbitration or the police, with the reason) or withdrawn (with the
    reason; a new case may be withdrawn too). RuleViolation per field; Conflict
    when someone concluded it first."""
    errors: list[tuple[str | None, str]] = []
    if data.outcome not in OUTCOMES:
        raise RuleViolation("outcome", _("Choose the outcome."))
    terms = (data.terms or "").strip() or None
    reason = " ".join((data.reason or "").split()) or None
    values: dict[str, Any] = {"outcome": data.outcome}
    if data.outcome == "agreement":
        if not terms:
            errors.append(("terms", _("Write the terms the parties agreed.")))
        if data.settled_amount is not None and not 0 <= data.settled_amount <= 100_000_000:
            errors.append(("settled_amount", _("An amount from 0 to 100,000,000 yuan.")))
        schedule = (data.payment_schedule or "").strip() or None
        if schedule and len(schedule) > 500:
            errors.append(("payment_schedule", _("At most %(n)d characters.", n=500)))
        values.update(
            terms=terms,
            settled_amount=data.settled_amount,
            payment_schedule=schedule,
            followup_due=today() + timedelta(days=setting("MEDIATION_FOLLOWUP_DAYS")),
        )
    else:
        if data.outcome == "referred" and data.referral not in REFERRALS:
            errors.append(("referral", _("Choose where the case is referred.")))
        if not reason:
            errors.append(("reason", _("Give the reason.")))
        elif len(reason) > 500:
            errors.append(("reason", _("At most %(n)d characters.", n=500)))
        values.update(
            referral=data.referral if data.outcome == "referred" else None, outcome_reason=reason
        )
    if errors:
        raise RuleViolation.several(errors)
    expected = ("new", "accepted") if data.outcome == "withdrawn" else ("accepted",)
    if case.status not in expected and case.status == "new":
        raise Conflict(_("Accept the case and assign mediators first."))
    advance(
        session,
        case,
        actor,
        expected,
        status="concluded",
        concluded_at=utcnow(),
        concluded_by_id=actor.id,
        **values,
    )
    add_event(session, case, actor, "concluded", terms or reason)
    audit.record(session, actor, CONCLUDED, case, {"outcome": data.outcome})
    tell(session, case_people(session, case), CONCLUDED_NOTICE, case, outcome=data.outcome)
    session.flush()
    return case


def record_followup(
    session: Session,
    actor: Any,
    case: MediationCase,
    *,
    performed: bool,
    satisfied: bool | None,
    note: str | None,
) -> MediationCase:
    """The follow-up visit (回访) of an agreement: performed or not, the parties
    satisfied or not. RuleViolation(None) before an agreement; Conflict when it was
    recorded already (a conditional UPDATE on followup_at)."""
    if case.outcome != "agreement" or case.status == "new":
        raise RuleViolation(None, _("There is no agreement yet: the follow-up comes after one."))
    note = " ".join((note or "").split()) or None
    if note and len(note) > 500:
        raise RuleViolation("note", _("At most %(n)d characters.", n=500))
    result = session.execute(
        update(MediationCase)
        .where(
            MediationCase.id == case.id,
            MediationCase.status == "concluded",
            MediationCase.outcome == "agreement",
            MediationCase.followup_at.is_(None),
        )
        .values(
            followup_at=utcnow(),
            followup_by_id=actor.id,
            followup_performed=performed,
            followup_satisfied=satisfied if performed else None,
            followup_note=note,
            last_actor_id=actor.id,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(case)
        who = session.get(User, case.followup_by_id or case.last_actor_id or 0)
        raise Conflict(
            _("The follow-up was already recorded by %(name)s.", name=who.display_name)
            if who
            else _("The follow-up was already recorded.")
        )
    session.refresh(case)
    add_event(session, case, actor, "followup", note)
    audit.record(
        session, actor, FOLLOWED_UP, case, {"performed": performed, "satisfied": satisfied}
    )
    session.flush()
    return case


def close_case(session: Session, actor: Any, case: MediationCase) -> MediationCase:
    """concluded -> closed, with who and when. An agreement closes after its
    follow-up (RuleViolation(None) before); Conflict when someone closed it first."""
    if case.status == "concluded" and case.outcome == "agreement" and case.followup_at is None:
        raise RuleViolation(None, _("Record the follow-up visit before closing the case."))
    if case.status in ("new", "accepted"):
        raise RuleViolation(None, _("Record the outcome before closing the case."))
    advance(
        session,
        case,
        actor,
        ("concluded",),
        status="closed",
        closed_at=utcnow(),
        closed_by_id=actor.id,
    )
    add_event(session, case, actor, "closed")
    audit.record(session, actor, CLOSED, case, {"outcome": case.outcome})
    tell(session, case_people(session, case), CLOSED_NOTICE, case)
    session.flush()
    return case


def reveal_party(
    session: Session, actor: Any, case: MediationCase, party: CaseParty
) -> tuple[str, str | None]:
    """A party's full phone and document number; the audit event names the case and
    party, never the values."""
    audit.record(session, actor, REVEALED, case, {"party_id": party.id})
    session.flush()
    return party.phone, party.id_number


def overdue_condition(day: date):
    """SQL condition on MediationCase: past its due date on local `day` (acceptance
    for a new case, conclusion for an accepted one)."""
    return or_(
        (MediationCase.status == "new") & (MediationCase.accept_due < day),
        (MediationCase.status == "accepted") & (MediationCase.conclude_due < day),
    )


def mark_overdue(session: Session, day: date | None = None) -> int:
    """Mark the cases past their due date (local `day`, default today) and tell their
    people once per case and stage. Safe to run twice. Returns how many were marked."""
    day = day or today()
    cases = list(
        session.scalars(
            select(MediationCase).where(overdue_condition(day), MediationCase.overdue.is_(False))
        )
    )
    for case in cases:
        marked = session.execute(
            update(MediationCase)
            .where(MediationCase.id == case.id, MediationCase.overdue.is_(False))
            .values(overdue=True)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:
            continue
        session.refresh(case)
        due = case.accept_due if case.status == "new" else case.conclude_due
        add_event(session, case, None, "overdue", due.isoformat())
        audit.record(session, None, OVERDUE, case, {"status": case.status, "due": due.isoformat()})
        notify(
            session,
            case_people(session, case),
            OVERDUE_NOTICE,
            link=case_link(case),
            key=f"mediation-overdue-{case.id}-{case.status}",
            number=case.number,
            due=due.isoformat(),
        )
    session.flush()
    return len(cases)
