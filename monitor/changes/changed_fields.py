"""Which fields of a record changed between two stored versions, as people would see a change."""
from __future__ import annotations

import json

from monitor.changes import venue_identity

# A change people can see: what the place is called, where it is, which ward counts it. A field the source starts
# or stops carrying (null on one side: a newer list adding `uprn`) is the source's layout, not the place changing.
CHANGE_FIELDS = ("name", "address", "postcode", "ward_code")


def _same(field: str, old, new) -> bool:
    if field == "postcode":
        return venue_identity.normalise_postcode(old) == venue_identity.normalise_postcode(new)
    return " ".join(str(old).split()).casefold() == " ".join(str(new).split()).casefold()


def changed_fields(old_json: str | None, new_json: str | None) -> dict[str, list]:
    """Return {field: [old, new]} for the fields people see (name, address, postcode, ward) that changed between
    two stored versions, each given on both sides."""
    if not old_json or not new_json:
        return {}
    old, new = json.loads(old_json), json.loads(new_json)
    return {k: [old[k], new[k]] for k in CHANGE_FIELDS
            if old.get(k) not in (None, "") and new.get(k) not in (None, "") and not _same(k, old[k], new[k])}
