"""The simulated FSA register: every English authority's establishments, written as its open-data XML file.

Pubs (business type 7843) take real names, streets and postcodes from the Open Pubs extracts of the replay data,
each at a random point in one of its authority's best-fit wards (by population), at a numbered address unique in
its authority (so a change of hands is the only reason two registrations share an address). The other
establishments repeat the FSA example file's three non-pub records under new FHRSIDs; the spider drops them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from bench.national.geography import Authority, Placer
from spiders.sources.fhrs_pubs.replay_build import SOURCES, read_rows

PUB_TYPE = ("Pub/bar/nightclub", "7843")
# The FSA example file's non-pub establishments (tests/fixtures/fhrs/...example.xml), their varying fields.
OTHERS = (("@Cleeve Hill", "Farmers/growers", "7838", "4", "2025-11-05"),
          ("1 Source Supplements", "Retailers - other", "4613", "Exempt", None),
          ("(CURATED) MOROCCAN MARKET", "Retailers - other", "4613", "Improvement Required", "2023-07-28"))
HEAD = ('<?xml version="1.0"?>\n<FHRSEstablishment xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        "  <Header>\n    <ExtractDate>{date}</ExtractDate>\n    <ItemCount>{count}</ItemCount>\n"
        "    <ReturnCode>Success</ReturnCode>\n  </Header>\n  <EstablishmentCollection>\n")
TAIL = "  </EstablishmentCollection>\n</FHRSEstablishment>\n"


@dataclass
class Venue:
    fhrsid: int
    name: str
    street: str
    postcode: str
    lat: float
    lng: float
    ward: str


@dataclass
class AuthorityRegister:
    authority: Authority
    pubs: dict[int, Venue] = field(default_factory=dict)
    others: int = 0             # how many non-pub establishments
    first_other: int = 0        # FHRSID of the first of them
    next_number: int = 1        # the next street number free in this authority
    renumber_by: int = 0        # an offset added to every FHRSID (a renumbered register)
    keep_share: float = 1.0     # the share of establishments listed (a file cut short)


class Pool:
    """Real pub names, streets and postcodes from the replay data's Open Pubs extracts."""

    def __init__(self):
        rows = [r for path in sorted(SOURCES.glob("open_pubs_*.csv")) if "checked" not in path.name
                for r in read_rows(path)]
        self.names = sorted({r[1].strip() for r in rows if r[1].strip()})
        streets = {r[2].split(",")[0].lstrip("0123456789-/ ABab").strip() for r in rows}
        self.streets = sorted(s for s in streets if len(s) > 3)
        self.postcodes = sorted({r[3].strip() for r in rows if r[3].strip() and r[3].strip() != r"\N"})


def new_venue(reg: AuthorityRegister, fhrsid: int, pool: Pool, placer: Placer, rng, point=None) -> Venue:
    """Return a pub at a new address of the authority."""
    lat, lng, ward = point or placer.points(reg.authority, 1)[0]
    number, reg.next_number = reg.next_number, reg.next_number + 1
    street = f"{number} {pool.streets[int(rng.integers(len(pool.streets)))]}"
    return Venue(fhrsid, pool.names[int(rng.integers(len(pool.names)))], street,
                 pool.postcodes[int(rng.integers(len(pool.postcodes)))], lat, lng, ward)


def pub_xml(v: Venue, reg: AuthorityRegister) -> str:
    a = reg.authority
    return ("    <EstablishmentDetail>\n"
            f"      <FHRSID>{v.fhrsid + reg.renumber_by}</FHRSID>\n"
            f"      <BusinessName>{escape(v.name)}</BusinessName>\n"
            f"      <BusinessType>{PUB_TYPE[0]}</BusinessType>\n      <BusinessTypeID>{PUB_TYPE[1]}</BusinessTypeID>\n"
            f"      <AddressLine1>{escape(v.street)}</AddressLine1>\n"
            f"      <AddressLine2>{escape(a.name)}</AddressLine2>\n"
            f"      <PostCode>{v.postcode}</PostCode>\n"
            '      <RatingDate xsi:nil="true" />\n'
            f"      <LocalAuthorityCode>{a.code}</LocalAuthorityCode>\n"
            f"      <LocalAuthorityName>{escape(a.name)}</LocalAuthorityName>\n"
            "      <Scores />\n      <SchemeType>FHRS</SchemeType>\n      <NewRatingPending>False</NewRatingPending>\n"
            f"      <Geocode><Longitude>{v.lng}</Longitude><Latitude>{v.lat}</Latitude></Geocode>\n"
            "    </EstablishmentDetail>\n")


def other_xml(i: int, reg: AuthorityRegister) -> str:
    name, kind, kind_id, rating, date = OTHERS[i % len(OTHERS)]
    a = reg.authority
    rated = f"<RatingDate>{date}</RatingDate>" if date else '<RatingDate xsi:nil="true" />'
    return ("    <EstablishmentDetail>\n"
            f"      <FHRSID>{reg.first_other + i + reg.renumber_by}</FHRSID>\n"
            f"      <BusinessName>{escape(name)}</BusinessName>\n"
            f"      <BusinessType>{kind}</BusinessType>\n      <BusinessTypeID>{kind_id}</BusinessTypeID>\n"
            f"      <RatingValue>{rating}</RatingValue>\n      {rated}\n"
            f"      <LocalAuthorityCode>{a.code}</LocalAuthorityCode>\n"
            f"      <LocalAuthorityName>{escape(a.name)}</LocalAuthorityName>\n"
            "      <Scores />\n      <SchemeType>FHRS</SchemeType>\n      <NewRatingPending>False</NewRatingPending>\n"
            "      <Geocode />\n    </EstablishmentDetail>\n")


def write_file(reg: AuthorityRegister, path, date: str) -> int:
    """Write the authority's open-data file; return how many pubs it lists.

    Pubs are spread evenly among the other establishments, as in a real file (sorted by name), so a file cut
    short loses pubs and others alike.
    """
    pubs = sorted(reg.pubs.values(), key=lambda v: v.fhrsid)
    total = len(pubs) + reg.others
    listed = int(total * reg.keep_share) if reg.keep_share < 1 else total
    step = total / len(pubs) if pubs else 0
    pub_at = {int(i * step): v for i, v in enumerate(pubs)}
    written, other, n_pubs = 0, 0, 0
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEAD.format(date=date, count=listed))
        chunk = []
        for position in range(listed):
            if position in pub_at:
                chunk.append(pub_xml(pub_at[position], reg))
                n_pubs += 1
            else:
                chunk.append(other_xml(other, reg))
                other += 1
            written += 1
            if len(chunk) >= 2000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
        f.write(TAIL)
    return n_pubs
