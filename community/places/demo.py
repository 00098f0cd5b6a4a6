"""Demo sites, buildings and rooms for seed-demo: every kind of site across the four
communities, the demo landlord an approved member of 东村房东协会."""

from __future__ import annotations

from datetime import timedelta

from community.core.timeutil import today, utcnow
from community.places.models import AssociationApplication, Building, Room, Site

ASSOCIATION = "东村房东协会"
COMPANY = "安居物业服务有限公司"

# (name, kind, community, address, owner: "landlord" | "company" | None,
#  buildings: ((building name, number of floors, rooms per floor), ...))
SITES = [
    ("张家出租楼", "rental_house", "东村社区", "东村路18号", "landlord", (("主楼", 3, 4),)),
    ("东村青年公寓", "rental_apartment", "东村社区", "东村路26号", "landlord", (("A座", 4, 5),)),
    (
        "幸福家园小区",
        "compound",
        "东村社区",
        "幸福路1号",
        "company",
        (("1号楼", 6, 4), ("2号楼", 6, 4), ("3号楼", 5, 4)),
    ),
    ("东村三组出租屋", "rental_house", "东村社区", "东村三组45号", None, (("主楼", 2, 3),)),
    ("南苑花园", "compound", "南苑社区", "南苑大道88号", "company", (("1幢", 5, 4), ("2幢", 5, 4))),
    ("创客电子员工宿舍", "dormitory", "南苑社区", "创业路9号", None, (("宿舍楼", 4, 6),)),
    ("南苑小巷12号", "rental_house", "南苑社区", "南苑小巷12号", "landlord", (("主楼", 2, 3),)),
    ("西河公寓", "rental_apartment", "西河社区", "西河街5号", None, (("东楼", 5, 4),)),
    ("西河人家", "rental_house", "西河社区", "西河村32号", None, (("主楼", 3, 3),)),
    ("西河工业园宿舍", "dormitory", "西河社区", "工业园区2号", None, (("1号宿舍", 5, 8),)),
    ("北塘新村", "compound", "北塘社区", "北塘路100号", None, (("1栋", 6, 2), ("2栋", 6, 2))),
    ("北塘出租楼", "rental_house", "北塘社区", "北塘老街7号", None, (("主楼", 3, 4),)),
]


def _rooms(building: Building, floors: int, per_floor: int, seed: int) -> list[Room]:
    """Rooms numbered 101, 102, ...; beds and head counts vary deterministically,
    a few rooms have more people than beds (what an inspection looks for)."""
    rooms = []
    counted = today()
    for floor in range(1, floors + 1):
        for i in range(1, per_floor + 1):
            k = seed + floor * 7 + i * 3
            beds = 1 + k % 4
            occupants = (k * 5) % (beds + 2)
            rooms.append(
                Room(
                    building=building,
                    number=f"{floor}{i:02d}",
                    beds=beds,
                    occupants=occupants,
                    counted_on=counted - timedelta(days=k % 30),
                )
            )
    return rooms


def seed(session, context) -> None:
    """Adds context["sites"] {name: Site} and context["buildings"]
    {(site name, building name): Building}."""
    areas, orgs, users = context["areas"], context["orgs"], context["users"]
    landlord, police, manager = users["landlord"], users["police"], users["property"]
    association, company = orgs[ASSOCIATION], orgs[COMPANY]

    member = AssociationApplication(
        association_id=association.id,
        landlord_id=landlord.id,
        status="approved",
        note="张家出租楼、东村青年公寓的房东",
        decided_by_id=users["association"].id,
        decided_at=utcnow(),
    )
    session.add(member)

    sites: dict[str, Site] = {}
    buildings: dict[tuple[str, str], Building] = {}
    for n, (name, kind, community, address, owner, blocks) in enumerate(SITES):
        area = areas[community]
        site = Site(
            name=name,
            kind=kind,
            area_id=area.id,
            address=address,
            landlord_id=landlord.id if owner == "landlord" else None,
            company_id=company.id if owner == "company" else None,
            # The demo landlord's sites in the association's community belong to it.
            association_id=(
                association.id if owner == "landlord" and area.id == association.area_id else None
            ),
            created_by_id={"landlord": landlord.id, "company": manager.id}.get(owner, police.id),
        )
        session.add(site)
        sites[name] = site
        for b, (building_name, floors, per_floor) in enumerate(blocks):
            building = Building(site=site, name=building_name)
            session.add(building)
            session.add_all(_rooms(building, floors, per_floor, seed=n * 11 + b))
            buildings[(name, building_name)] = building
    session.flush()
    context["sites"] = sites
    context["buildings"] = buildings
