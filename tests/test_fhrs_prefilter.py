"""parse_pubs_xml: non-pub establishments are dropped before XML parsing, with the same pubs as a full parse."""
from __future__ import annotations

from pathlib import Path

import pytest

from spiders.sources.fhrs_pubs.fhrs_xml import parse_pubs_xml, parse_xml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "fixtures" / "fhrs" / "fhrs_open_data_file_FHRSxxxen-GB_example.xml"   # 3, no pubs
HALTON = ROOT / "spiders" / "sources" / "fhrs_pubs" / "data" / "FHRS902en-GB_2024-01-01.xml"             # 81 pubs


def details(body: bytes) -> list[bytes]:
    parts = body.split(b"<EstablishmentDetail>")[1:]
    return [b"<EstablishmentDetail>" + p.split(b"</EstablishmentDetail>")[0] + b"</EstablishmentDetail>"
            for p in parts]


def mixed_file() -> bytes:
    """The Halton pubs with the example's three other establishments between them, one of them FHRSID ...7843."""
    pubs, others = details(HALTON.read_bytes()), details(EXAMPLE.read_bytes())
    assert b"<FHRSID>1889918</FHRSID>" in others[0]
    others[0] = others[0].replace(b"<FHRSID>1889918</FHRSID>", b"<FHRSID>7843</FHRSID>")
    rows = pubs[:10] + others[:1] + pubs[10:40] + others[1:] + pubs[40:]
    head = HALTON.read_bytes().split(b"<EstablishmentDetail>")[0]
    return head + b"\n".join(rows) + b"</EstablishmentCollection></FHRSEstablishment>"


def test_prefiltered_parse_gives_the_pubs_of_a_full_parse_and_counts_the_rest():
    body = mixed_file()
    pubs, header, skipped = parse_pubs_xml(body)
    assert len(pubs) == 81 and skipped == 3               # 81 pubs in the Halton file (grep), 3 in the example
    everything, _ = parse_xml(body)
    assert pubs == [e for e in everything if e["business_type_id"] == "7843"]
    assert "7843" not in {p["fhrsid"] for p in pubs}     # contained the mark, parsed, and still not a pub
    assert header["ItemCount"] == "81"


def test_prefiltered_parse_of_a_truncated_file_is_an_error():
    body = mixed_file()
    with pytest.raises(ValueError, match="does not parse"):
        parse_pubs_xml(body[: len(body) // 2])


def test_prefiltered_parse_of_a_file_without_pubs():
    pubs, header, skipped = parse_pubs_xml(EXAMPLE.read_bytes())
    assert pubs == [] and skipped == 3 and header["ItemCount"] == "3"
