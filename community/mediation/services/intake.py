"""Intake: a case opened with its parties (at least two: an applicant and a
respondent), assigned to the mediation team covering its area, due for acceptance
MEDIATION_ACCEPT_DAYS local days later."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from community.accounts.models import Area, Organization
from community.core import audit
from community.core.crypto import lookup_hash
from community.core.errors import NotPermitted, RuleViolation
from community.core.timeutil import today
from community.core.validators import normalize_phone, phone_error
from community.mediation.models import (
    CASE_KINDS,
    PARTY_ROLES,
    RISK_RANK,
    SOURCES,
    CaseParty,
    CasePartyKey,
    MediationCase,
)
from community.mediation.permissions import needs_site, opens_at_site
from community.mediation.services.common import (
    OPENED,
    OPENED_NOTICE,
    add_event,
    setting,
    team_leads,
    tell,
)
from community.residents.documents import ID_CARD, Document, check, lookup_key, normalize_number

# The documents a party may show: those whose number is checked alone (a passport
# needs a country and a Latin name the intake form does not ask for).
PARTY_DOCUMENTS = (ID_CARD, "residence_permit", "hk_macao_permit", "taiwan_permit")
NAME_KEY_MAX = 6  # prefixes of a name kept as keyed hashes (张, 张三, 张三丰 ...)
MIN_PARTIES = 2


@dataclass(frozen=True)
class PartyInput:
    name: str
    phone: str
    role: str
    document_type: str | None = None
    id_number: str | None = None
    organization: str | None = None

    @property
    def blank(self) -> bool:
        return not any(
            (self.name or "").strip() or (v or "").strip()
            for v in (self.phone, self.id_number, self.organization)
        )


@dataclass(frozen=True)
class CaseInput:
    kind: str
    source: str
    area: Area
    summary: str
    risk: str
    parties: list[PartyInput]
    site: Any = None
    amount: int | None = None


def name_keys(name: str) -> list[str]:
    """The keyed hashes of a name's prefixes (the party search, by prefix)."""
    name = "".join(name.split())
    return [lookup_hash("name:" + name[:n]) for n in range(1, min(len(name), NAME_KEY_MAX) + 1)]


def team_for_area(session: Session, area: Area) -> Organization | None:
    """The mediation team covering `area`: the one of the nearest area up its path."""
    teams = session.execute(
        select(Organization, Area.path)
        .join(Area, Area.id == Organization.area_id)
        .where(Organization.kind == "mediation_team")
    ).all()
    covering = [(len(path), org.id, org) for org, path in teams if area.path.startswith(path)]
    return max(covering)[2] if covering else None


def _check_party(index: int, party: PartyInput, day) -> tuple[dict, list]:
    prefix = f"parties-{index}-"
    errors: list[tuple[str, str]] = []
    name = " ".join((party.name or "").split())
    if not name:
        errors.append((prefix + "name", _("Enter the party's name.")))
    elif len(name) > 60:
        errors.append((prefix + "name", _("At most %(n)d characters.", n=60)))
    phone = normalize_phone(party.phone or "")
    message = phone_error(phone) if phone else _("Enter the party's phone number.")
    if message:
        errors.append((prefix + "phone", message))
    if party.role not in PARTY_ROLES:
        errors.append((prefix + "role", _("Choose applicant or respondent.")))
    values = {"name": name, "phone": phone, "role": party.role}
    number = normalize_number(party.id_number or "")
    if number:
        kind = party.document_type or ID_CARD
        if kind not in PARTY_DOCUMENTS:
            errors.append((prefix + "document_type", _("Choose the kind of identity document.")))
        else:
            _doc, found = check(
                kind=kind,
                number=number,
                nationality=None,
                latin_name=None,
                gender=None,
                birth_date=None,
                today=day,
            )
            # The holder's gender and birth date are not asked of a party.
            found = [(f, m) for f, m in found if f not in ("gender", "birth_date")]
            errors.extend((prefix + field, m) for field, m in found)
            document = Document(kind, number, None, None, None)
            values.update(
                document_type=kind, id_number=number, id_hash=lookup_hash(lookup_key(document))
            )
    organization = " ".join((party.organization or "").split()) or None
    if organization and len(organization) > 120:
        errors.append((prefix + "organization", _("At most %(n)d characters.", n=120)))
    values["organization"] = organization
    return values, errors


def open_case(session: Session, opener: Any, data: CaseInput) -> MediationCase:
    """Open a case: RuleViolation per field (kind, source, risk, summary, amount,
    site_id, area_id, parties-N-*: fewer than two parties, or none on one side);
    NotPermitted when a landlord names another's site. The team leads are told."""
    errors: list[tuple[str | None, str]] = []
    if data.kind not in CASE_KINDS:
        errors.append(("kind", _("Choose the type of dispute.")))
    if data.source not in SOURCES:
        errors.append(("source", _("Choose where the case comes from.")))
    if data.risk not in RISK_RANK:
        errors.append(("risk", _("Choose the risk of escalation.")))
    summary = (data.summary or "").strip()
    if not summary:
        errors.append(("summary", _("Describe the dispute.")))
    if data.amount is not None and not 0 <= data.amount <= 100_000_000:
        errors.append(("amount", _("An amount from 0 to 100,000,000 yuan.")))
    if data.site is not None and data.site.area_id != data.area.id:
        errors.append(("site_id", _("This site is not in the chosen area.")))
    if data.site is None and needs_site(opener):
        errors.append(("site_id", _("Choose the site of the dispute.")))
    if data.site is not None and not opens_at_site(opener, data.site):
        raise NotPermitted()
    day = today()
    parties = []
    for index, party in enumerate(data.parties):
        if party.blank:
            continue
        values, found = _check_party(index, party, day)
        errors.extend(found)
        parties.append((index, values))
    if len(parties) < MIN_PARTIES:
        errors.append(("parties", _("A case has at least two parties.")))
    elif not {"applicant", "respondent"} <= {v["role"] for _i, v in parties}:
        errors.append(("parties", _("A case has an applicant and a respondent.")))
    team = team_for_area(session, data.area)
    if team is None:
        errors.append(("area_id", _("No mediation team covers this area.")))
    if errors:
        raise RuleViolation.several(errors)
    case = MediationCase(
        number="tmp-" + secrets.token_hex(8),  # the id's number once it has one
        team_id=team.id,
        area_id=data.area.id,
        site_id=data.site.id if data.site is not None else None,
        kind=data.kind,
        source=data.source,
        summary=summary,
        amount=data.amount,
        risk=data.risk,
        risk_rank=RISK_RANK[data.risk],
        status="new",
        opened_by_id=opener.id,
        last_actor_id=opener.id,
        accept_due=day + timedelta(days=setting("MEDIATION_ACCEPT_DAYS")),
    )
    session.add(case)
    session.flush()
    number = f"TJ{day.year}-{case.id:05d}"
    session.execute(
        update(MediationCase)
        .where(MediationCase.id == case.id)
        .values(number=number)
        .execution_options(synchronize_session=False)
    )
    case.number = number
    for position, (_index, values) in enumerate(parties, start=1):
        party = CaseParty(
            case_id=case.id, position=position, phone_hash=lookup_hash(values["phone"]), **values
        )
        session.add(party)
        session.flush()
        session.add_all(
            CasePartyKey(party_id=party.id, case_id=case.id, hash=h)
            for h in name_keys(values["name"])
        )
    add_event(session, case, opener, "opened")
    audit.record(session, opener, OPENED, case, {"parties": len(parties), "risk": data.risk})
    tell(
        session, team_leads(session, team.id), OPENED_NOTICE, case, due=case.accept_due.isoformat()
    )
    session.flush()
    return case
