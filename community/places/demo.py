"""Demo sites, buildings and rooms for seed-demo: every kind of site across the four
communities, the demo landlord an approved member of 东村房东协会."""

from __future__ import annotations

from community.places import queries, services
from community.places.models import Building, Site

ASSOCIATION = "东村房东协会"
COMPANY = "安居物业服务有限公司"
ENTERPRISE = "创客电子科技有限公司"
DORMITORY = "创客电子员工宿舍"  # the enterprise's dormitory: its HR staff see it

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


def _room_figures(floors: int, per_floor: int, seed: int):
    """Rooms numbered 101, 102, ...; beds and head counts vary deterministically,
    a few rooms have more people than beds (what an inspection looks for)."""
    for floor in range(1, floors + 1):
        for i in range(1, per_floor + 1):
            k = seed + floor * 7 + i * 3
            beds = 1 + k % 4
            yield f"{floor}{i:02d}", beds, (k * 5) % (beds + 2)


def seed(session, context) -> None:
    """Adds context["sites"] {name: Site} and context["buildings"]
    {(site name, building name): Building}. Everything goes through the public
    services, as the people of the demo would do it: the landlord joins the
    association; landlords, the property manager, the police (and the
    administrator outside the police station's area) register the sites."""
    areas, orgs, users = context["areas"], context["orgs"], context["users"]
    landlord, police, manager = users["landlord"], users["police"], users["property"]
    admin, officer = users["admin"], users["association"]
    association, company = orgs[ASSOCIATION], orgs[COMPANY]

    application = services.apply_to_association(
        session, landlord, association, "张家出租楼、东村青年公寓的房东"
    )
    services.decide_application(session, officer, application, "approve")

    sites: dict[str, Site] = {}
    buildings: dict[tuple[str, str], Building] = {}
    for n, (name, kind, community, address, owner, blocks) in enumerate(SITES):
        area = areas[community]
        fields = {"name": name, "kind": kind, "area_id": area.id, "address": address}
        if owner == "company":
            actor, fields["company_id"] = manager, company.id
        elif owner == "landlord" and area.id == association.area_id:
            # The demo landlord's sites in the association's community belong to it.
            actor, fields["association_id"] = landlord, association.id
        else:
            actor = police if area in queries.community_choices(session, police) else admin
            if owner == "landlord":
                fields["landlord_username"] = landlord.username
            if name == DORMITORY:
                fields["enterprise_id"] = orgs[ENTERPRISE].id
        site = services.create_site(session, actor, **fields)
        sites[name] = site
        for b, (building_name, floors, per_floor) in enumerate(blocks):
            building = services.add_building(session, actor, site, building_name)
            for number, beds, occupants in _room_figures(floors, per_floor, seed=n * 11 + b):
                services.add_room(
                    session, actor, building, number=number, beds=beds, occupants=occupants
                )
            buildings[(name, building_name)] = building
    session.flush()
    context["sites"] = sites
    context["buildings"] = buildings
