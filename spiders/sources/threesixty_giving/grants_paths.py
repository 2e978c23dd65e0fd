"""360Giving tables in flattentool's JSON-path layout: headers that are paths, arrays in sub-sheets.

flattentool (the standard's own converter) writes a grant's top-level fields as their JSON names ("id",
"amountAwarded", "additional_data/recipientLocation") and each array in a sheet of its own, one row per element,
keyed by the grant's "id" ("recipientOrganization/0/postalCode", "additional_data/locationLookup/0/lsoa11cd").
Columns in titles ("Recipient Org:Postal Code") are grants_table.py's; both may stand in one sheet.
"""
from __future__ import annotations

# A grant's own top-level keys in the 360Giving schema, and GrantNav's additional_data.
TOP_KEYS = frozenset({
    "id", "title", "description", "currency", "amountAwarded", "amountAppliedFor", "amountDisbursed", "awardDate",
    "dateModified", "plannedDates", "actualDates", "recipientOrganization", "recipientIndividual",
    "beneficiaryLocation", "fundingOrganization", "grantProgramme", "classifications", "relatedActivity",
    "fromOpenCall", "dataSource", "additional_data", "toIndividualsDetails", "regrantType", "simpleGrantType",
    "fundingType", "Identifier"})


def json_path(header) -> list | None:
    """Return the path of a JSON-path header (['additional_data', 'locationLookup', 0, 'lsoa11cd']), else None."""
    text = str(header or "").strip()
    parts = text.split("/")
    if not text or parts[0] not in TOP_KEYS or any(p == "" for p in parts):
        return None
    return [int(p) if p.isdigit() else p for p in parts]


def set_path(node: dict, path: list, value) -> None:
    """Set value at path in nested dicts and lists, creating what is missing."""
    for key, nxt in zip(path, path[1:]):
        if isinstance(key, int):
            while len(node) <= key:
                node.append({} if not isinstance(nxt, int) else [])
            node = node[key]
        else:
            child = node.get(key)
            if child is None or not isinstance(child, (dict, list)):
                child = node[key] = [] if isinstance(nxt, int) else {}
            node = child
    last = path[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def element_path(path: list, index: int) -> list:
    """A sub-sheet column's path with its last array index set to the row's place among its siblings."""
    last = max(i for i, p in enumerate(path) if isinstance(p, int))
    return path[:last] + [index] + path[last + 1:]


def sub_sheet_rows(rows, cell) -> dict[str, list[tuple[list, object]]]:
    """Read a sub-sheet into {grant id: [(path, value), ...]}; {} when it is not one.

    Its first column is the grant's "id"; columns with fewer array indexes than the deepest are the parent's keys
    (a recipient's "recipientOrganization/0/id" in its locations' sheet); the k-th row of a parent is element k.
    """
    rows = iter(rows)
    header = next(rows, None)
    if not header or str(header[0] or "").strip() != "id":
        return {}
    paths = {col: json_path(h) for col, h in enumerate(header) if col and json_path(h)}
    if not paths:
        return {}
    depth = {col: sum(isinstance(p, int) for p in path) for col, path in paths.items()}
    deepest = max(depth.values())
    element_cols = [col for col in paths if depth[col] == deepest and deepest > 0]
    parent_cols = [col for col in paths if depth[col] < deepest]
    out: dict[str, list] = {}
    seen: dict[tuple, int] = {}
    for row in rows:
        grant_id = cell(row[0]) if row else None
        if grant_id is None:
            continue
        parent = (str(grant_id),) + tuple(cell(row[c]) if c < len(row) else None for c in parent_cols)
        k = seen.get(parent, 0)
        seen[parent] = k + 1
        for col in element_cols:
            value = cell(row[col]) if col < len(row) else None
            if value is not None:
                out.setdefault(str(grant_id), []).append((element_path(paths[col], k), value))
    return out
