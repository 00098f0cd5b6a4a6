"""Read side of the places pages: site lists with filters, eager-loaded pages, the
choices a user may pick from in the site form. Scopes come from permissions."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    column,
    func,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session, aliased, joinedload

from community.accounts.models import Area, Organization
from community.accounts.permissions import visible_or_404
from community.core.pagination import PER_PAGE, Page, paginate, parse_page
from community.core.rollups import TOTAL, RollupMonth
from community.core.timeutil import today
from community.core.validators import is_id
from community.extensions import db
from community.places.models import SITE_KINDS, AssociationApplication, Building, Room, Site
from community.places.permissions import (
    company_scope,
    enterprise_scope,
    landlord_communities,
    managed_associations,
    picks_any_association,
    picks_member_associations,
    placement_communities,
    scope_area_ids,
    visible_sites,
)

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# The 双无 badge looks back this many days for a crime/public-security case or a
# fire (the design's "12 months"); the one definition, used by ratings too.
SHUANGWU_DAYS = 365
# The area counter of sites (kept by places.stored, which imports this module).
SITES_METRIC = "sites.total"


def shuangwu_since(on: date | None = None) -> date:
    """Incidents after this date cost the badge."""
    return (on or today()) - timedelta(days=SHUANGWU_DAYS)


@dataclass(frozen=True)
class Shuangwu:
    """A site's 双无 standing on a day, with the reasons it has no badge (both may
    hold): its record is younger than SHUANGWU_DAYS (`eligible_on`: the first day
    the badge can show if nothing happens), or a crime or fire happened within the
    window (`incident_on`: the latest)."""

    since: date  # incidents on or after this day cost the badge
    known_since: date
    eligible_on: date | None = None
    incident_on: date | None = None

    @property
    def badge(self) -> bool:
        return self.eligible_on is None and self.incident_on is None


def shuangwu_status(site: Site, on: date | None = None) -> Shuangwu:
    """The 双无 rule: a year of clean record. The app has known the site for at least
    SHUANGWU_DAYS days (registered, or admitted, that long ago) and no crime and no
    fire happened there in that time (an incident exactly SHUANGWU_DAYS days ago
    still counts). shuangwu_sql() is its twin for lists."""
    since = shuangwu_since(on)
    known = site.known_since()
    return Shuangwu(
        since=since,
        known_since=known,
        eligible_on=known + timedelta(days=SHUANGWU_DAYS) if known > since else None,
        incident_on=None if site.has_no_incidents_since(since) else site.last_incident_on,
    )


def shuangwu_from(site: Site) -> date:
    """The first day the 双无 badge shows if nothing else happens: SHUANGWU_DAYS after
    the app came to know the site, and the day after an incident has aged past the
    window. is_shuangwu(site, on) is `on >= shuangwu_from(site)` (a test proves it);
    stored as Site.shuangwu_on, so lists and counters compare one date."""
    start = site.known_since() + timedelta(days=SHUANGWU_DAYS)
    if site.last_incident_on is not None:
        start = max(start, site.last_incident_on + timedelta(days=SHUANGWU_DAYS + 1))
    return start


def is_shuangwu(site: Site, on: date | None = None) -> bool:
    """The 双无 badge (see shuangwu_status)."""
    return shuangwu_status(site, on).badge


def shuangwu_sql(on: date | None = None):
    """is_shuangwu() as a SQL condition on Site (the list filter): the stored first
    day of the badge (Site.shuangwu_on, kept by places.stored) has come."""
    return Site.shuangwu_on <= (on or today())


# --- form choices -----------------------------------------------------------


def community_choices(session: Session, user: Any) -> list[Area]:
    """Communities where the user may place a site: the communities of their scope
    (a landlord: the community of their landlord membership)."""
    return list(session.scalars(placement_communities(user)))


def _org_choices(session: Session, kind: str, every: bool, own: set[int], areas) -> list:
    """Organizations of `kind` a user may name: every one, or their own, or those
    working in their areas (an organization on the street covers its communities)."""
    stmt = select(Organization).where(Organization.kind == kind)
    if every:
        return list(session.scalars(stmt.order_by(Organization.name)))
    if own and not areas:
        return list(session.scalars(stmt.where(Organization.id.in_(own))))
    conditions = [Organization.id.in_(own)] if own else []
    for area in areas:
        # Inside the user's area, or on one of its ancestors (a street-wide company).
        ancestors = [int(part) for part in area.path.strip("/").split("/") if part]
        conditions.append(Area.path.like(f"{area.path}%"))
        conditions.append(Organization.area_id.in_(ancestors))
    if not conditions:
        return []
    stmt = stmt.join(Area, Organization.area_id == Area.id).where(or_(*conditions))
    return list(session.scalars(stmt.order_by(Organization.name)))


def company_choices(session: Session, user: Any) -> list[Organization]:
    """Property companies the user may name as a site's manager: administrators any;
    a property manager their own; others the companies working in their areas."""
    return _org_choices(session, "property_company", *company_scope(user))


def enterprise_choices(session: Session, user: Any) -> list[Organization]:
    """Enterprises the user may name as a dormitory's: administrators any; others the
    enterprises working in their areas."""
    return _org_choices(session, "enterprise", *enterprise_scope(user))


def association_choices(session: Session, user: Any) -> list[Organization]:
    """Associations the user may attach a site to: a landlord those they are an
    approved member of; police and administrators the associations of the
    communities they cover (the service checks it matches the site's community)."""
    ids: set[int] = set()
    if picks_member_associations(user):
        ids |= set(
            session.scalars(
                select(AssociationApplication.association_id).where(
                    AssociationApplication.landlord_id == user.id,
                    AssociationApplication.status == "approved",
                )
            )
        )
    stmt = select(Organization).where(Organization.kind == "landlord_association")
    if picks_any_association(user):
        communities = placement_communities(user).with_only_columns(Area.id).order_by(None)
        stmt = stmt.where(or_(Organization.area_id.in_(communities), Organization.id.in_(ids)))
    elif ids:
        stmt = stmt.where(Organization.id.in_(ids))
    else:
        return []
    return list(session.scalars(stmt.order_by(Organization.name)))


# --- site list ----------------------------------------------------------------


@dataclass
class SiteFilters:
    """The list's filters, parsed leniently: an invalid value is ignored, never an error."""

    q: str = ""
    area_id: int | None = None
    kind: str | None = None
    stars: int | str | None = None  # 1..5 or "none"
    admitted: str | None = None  # "yes" | "no"
    shuangwu: str | None = None  # "yes"
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> SiteFilters:
        f = cls()
        f.q = (args.get("q") or "").strip()[:100]
        try:
            f.area_id = int(args.get("area_id") or "")
        except ValueError:
            f.area_id = None
        if f.area_id is not None and not is_id(f.area_id):
            f.area_id = None
        kind = args.get("kind")
        f.kind = kind if kind in SITE_KINDS else None
        stars = (args.get("stars") or "").strip()
        if stars == "none":
            f.stars = "none"
        elif stars in {"1", "2", "3", "4", "5"}:
            f.stars = int(stars)
        admitted = args.get("admitted")
        f.admitted = admitted if admitted in ("yes", "no") else None
        f.shuangwu = "yes" if args.get("shuangwu") == "yes" else None
        f.page = parse_page(args.get("page"))
        return f

    @property
    def active(self) -> bool:
        return any((self.q, self.area_id, self.kind, self.stars, self.admitted, self.shuangwu))

    def apply(self, stmt: Select) -> Select:
        if self.q:
            dialect = db.session.get_bind().dialect.name
            stmt = stmt.where(site_text_match(self.q, dialect))
        if self.area_id is not None:
            stmt = stmt.where(Site.area_id == self.area_id)
        if self.kind:
            stmt = stmt.where(Site.kind == self.kind)
        if self.stars == "none":
            stmt = stmt.where(Site.stars.is_(None))
        elif self.stars is not None:
            stmt = stmt.where(Site.stars == self.stars)
        if self.admitted == "yes":
            stmt = stmt.where(Site.admitted_on.is_not(None))
        elif self.admitted == "no":
            stmt = stmt.where(Site.admitted_on.is_(None))
        if self.shuangwu == "yes":
            stmt = stmt.where(shuangwu_sql())
        return stmt


# Trigram indexes need three characters; shorter queries scan (cheap enough at
# the sizes where one or two characters still narrow anything down).
SEARCH_MIN_CHARS = 3


def site_text_match(q: str, dialect: str) -> ColumnElement[bool]:
    """Sites whose name or address contains `q`, case-insensitively (ASCII), with
    the same results on every path. 3+ characters use the index made by migration
    0005_site_search: SQLite's FTS5 trigram table `site_fts` (its case folding is
    wider than LIKE's, so LIKE re-checks the few rows it finds), PostgreSQL's
    pg_trgm GIN indexes, which serve `ILIKE` on the bare column. Shorter queries
    use LIKE over the table."""
    like = or_(
        Site.name.icontains(q, autoescape=True),
        Site.address.icontains(q, autoescape=True),
    )
    if len(q) < SEARCH_MIN_CHARS:
        return like
    if dialect == "sqlite":
        # An FTS5 string literal: every character literal, double quotes doubled.
        phrase = '"' + q.replace('"', '""') + '"'
        matches = text("SELECT rowid FROM site_fts WHERE site_fts MATCH :site_q").bindparams(
            site_q=phrase
        )
        return and_(Site.id.in_(matches.columns(column("rowid", Integer))), like)
    if dialect == "postgresql":
        pattern = "%" + q.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        found = or_(Site.name.ilike(pattern, escape="/"), Site.address.ilike(pattern, escape="/"))
        # The matches first, behind an optimisation fence (a MATERIALIZED CTE): with
        # the scope and the order beside it, PostgreSQL misjudges how many rows the
        # pattern keeps and walks every site of the scope in name order (an index led
        # by area_id or name), re-checking the pattern on each; alone, the pattern
        # can only be served by the trigram indexes. The page then sorts the matches.
        matches = select(Site.id).where(found).cte("site_matches").prefix_with("MATERIALIZED")
        return Site.id.in_(select(matches.c.id))
    return like


def list_sites(session: Session, user: Any, filters: SiteFilters, per_page: int = PER_PAGE) -> Page:
    """One page of the sites the user may see, filtered, ordered by name (two or three
    queries). A search sorts what the text index found (few rows); the other lists
    read their page in order (scoped_page), and the unfiltered list of whole areas
    is counted from the area counters."""
    if filters.q:
        stmt = filters.apply(visible_sites(user)).order_by(Site.name, Site.id)
        return paginate(session, stmt, filters.page, per_page)
    area_ids = None if filters.active else scope_area_ids(user)
    if area_ids is not None:
        total = count_sites(session, area_ids)
    else:
        total = count(session, filters.apply(visible_sites(user)))
    page = min(max(filters.page, 1), max(1, -(-total // per_page)))
    items = scoped_page(
        session, user, filters.apply, (Site.name, Site.id), per_page, (page - 1) * per_page
    )
    return Page(items=items, page=page, per_page=per_page, total=total)


def count(session: Session, stmt: Select) -> int:
    """The rows of a SELECT (without its order)."""
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def count_sites(session: Session, area_ids: Select) -> int:
    """The sites of these areas, from the area counters (places.stored)."""
    return (
        session.scalar(
            select(func.coalesce(func.sum(RollupMonth.value), 0)).where(
                RollupMonth.area_id.in_(area_ids),
                RollupMonth.month == TOTAL,
                RollupMonth.metric == SITES_METRIC,
            )
        )
        or 0
    )


# Deeper than this, reading each area's first rows costs more than sorting the scope.
SCOPED_PAGE_MAX_ROWS = 500


def scoped_page(
    session: Session,
    user: Any,
    narrow: Callable[[Select], Select],
    order: tuple,
    limit: int,
    offset: int,
) -> list[Site]:
    """One page of visible_sites(user) narrowed by `narrow` (adds WHERE clauses), in
    `order` (Site columns, the last one unique).

    PostgreSQL cannot read an index in order across the several areas of a police
    scope (`area_id IN (...) ORDER BY name` sorts every site of the areas), and an
    index led by the order column makes the planner walk it for searches too. So a
    scope made of whole areas is read area by area: for each area its first
    offset + limit rows in order from an index led by area_id (a LATERAL subquery:
    an equality on area_id, nothing for the planner to misread), then those few
    rows are merged. SQLite walks one index in order with the scope as a filter,
    and other scopes are a few sites: both take the plain query."""
    area_ids = scope_area_ids(user)
    plain = (
        area_ids is None
        or session.get_bind().dialect.name != "postgresql"
        or offset + limit > SCOPED_PAGE_MAX_ROWS
    )
    if plain:
        stmt = narrow(visible_sites(user)).order_by(*order).limit(limit).offset(offset)
        return list(session.scalars(stmt).unique())
    areas = area_ids.subquery("areas")
    top = (
        narrow(select(Site).where(Site.area_id == areas.c.id))
        .order_by(*order)
        .limit(offset + limit)
        .lateral("top")
    )
    site = aliased(Site, top)
    stmt = (
        select(site)
        .select_from(areas)
        .join(top, true())
        .order_by(*(getattr(site, c.key) for c in order))
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt).unique())


# --- pages ----------------------------------------------------------------------


def get_site(session: Session, site_id: int) -> Site | None:
    """A site with its landlord, company and association loaded (one query); None for
    an id that cannot be a row (a query parameter may carry any number)."""
    if not is_id(site_id):
        return None
    return session.scalar(
        select(Site)
        .where(Site.id == site_id)
        .options(
            joinedload(Site.landlord),
            joinedload(Site.company),
            joinedload(Site.association),
            joinedload(Site.enterprise),
        )
    )


def get_site_or_404(site_id: int) -> Site:
    """The site of a page for the current user (get_site): 404 when it does not
    exist or lies outside their scope."""
    return visible_or_404(get_site(db.session, site_id), "site.view")


@dataclass
class BuildingSummary:
    building: Building
    rooms: int
    beds: int
    occupants: int


def list_buildings(session: Session, site: Site) -> list[BuildingSummary]:
    """The site's buildings with room, bed and head counts summed in SQL (one query)."""
    rows = session.execute(
        select(
            Building,
            func.count(Room.id),
            func.coalesce(func.sum(Room.beds), 0),
            func.coalesce(func.sum(Room.occupants), 0),
        )
        .outerjoin(Room, Room.building_id == Building.id)
        .where(Building.site_id == site.id)
        .group_by(Building.id)
        .order_by(Building.name)
    )
    return [BuildingSummary(b, int(n), int(beds), int(occ)) for b, n, beds, occ in rows]


def get_building(session: Session, building_id: int) -> Building | None:
    """A building with its site and the site's area (one query). Inner joins: every
    building has a site and every site an area, and SQLite plans an outer join
    around the site-area join as a scan of site."""
    return session.scalar(
        select(Building)
        .where(Building.id == building_id)
        .options(joinedload(Building.site, innerjoin=True))
    )


def list_rooms(session: Session, building: Building) -> list[Room]:
    """The building's rooms in number order (one query)."""
    return list(
        session.scalars(
            select(Room).where(Room.building_id == building.id).order_by(Room.number, Room.id)
        )
    )


def get_room(session: Session, room_id: int) -> Room | None:
    """A room with its building and site (one query, inner joins as in get_building)."""
    return session.scalar(
        select(Room)
        .where(Room.id == room_id)
        .options(
            joinedload(Room.building, innerjoin=True).joinedload(Building.site, innerjoin=True)
        )
    )


def get_site_by_token(session: Session, token: str) -> Site | None:
    """The site of a QR token; None for anything that cannot be a token."""
    if not _TOKEN_RE.match(token or ""):
        return None
    return session.scalar(select(Site).where(Site.qr_token == token))


# --- associations ----------------------------------------------------------------


def associations_for_landlord(session: Session, user: Any) -> list[Organization]:
    """The landlord associations of the landlord's communities."""
    ids = [a.id for a in landlord_communities(user)]
    if not ids:
        return []
    return list(
        session.scalars(
            select(Organization)
            .where(Organization.kind == "landlord_association", Organization.area_id.in_(ids))
            .order_by(Organization.name)
        )
    )


def applications_of(session: Session, landlord: Any) -> list[AssociationApplication]:
    return list(
        session.scalars(
            select(AssociationApplication)
            .where(AssociationApplication.landlord_id == landlord.id)
            .order_by(AssociationApplication.created_at.desc(), AssociationApplication.id.desc())
        )
    )


def officer_association_ids(session: Session, user: Any) -> list[int]:
    """Associations whose applications and members the user manages."""
    return list(
        session.scalars(
            select(Organization.id).where(
                Organization.kind == "landlord_association", managed_associations(user)
            )
        )
    )


def pending_applications(session: Session, association_ids: list[int]):
    if not association_ids:
        return []
    return list(
        session.scalars(
            select(AssociationApplication)
            .where(
                AssociationApplication.association_id.in_(association_ids),
                AssociationApplication.status == "pending",
            )
            .order_by(AssociationApplication.created_at, AssociationApplication.id)
        )
    )


@dataclass
class Member:
    application: AssociationApplication
    sites: list[Site]


def list_members(session: Session, association_ids: list[int]) -> list[Member]:
    """Approved members of the associations with the sites they attached to them (two queries)."""
    if not association_ids:
        return []
    members = list(
        session.scalars(
            select(AssociationApplication)
            .where(
                AssociationApplication.association_id.in_(association_ids),
                AssociationApplication.status == "approved",
            )
            .order_by(AssociationApplication.decided_at, AssociationApplication.id)
        )
    )
    if not members:
        return []
    sites = session.scalars(
        select(Site)
        .where(
            Site.association_id.in_(association_ids),
            Site.landlord_id.in_({m.landlord_id for m in members}),
        )
        .order_by(Site.name)
    )
    by_key: dict[tuple[int, int], list[Site]] = defaultdict(list)
    for site in sites:
        by_key[(site.association_id, site.landlord_id)].append(site)
    return [Member(m, by_key.get((m.association_id, m.landlord_id), [])) for m in members]
