"""The licences 360Giving's own datagetter accepts, as the exact URL strings the registry publishes.

From ThreeSixtyGiving/datagetter getter/get.py: a file under any other licence is not used by GrantNav,
so it is not used here either. Note the schemes differ: OGL v2 is https, OGL v3 and ODC-PDDL are http.
"""
from __future__ import annotations

ACCEPTABLE = frozenset({
    "http://www.opendefinition.org/licenses/odc-pddl",
    "https://creativecommons.org/publicdomain/zero/1.0/",
    "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/2/",
    "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "https://creativecommons.org/licenses/by/4.0/",
    "https://creativecommons.org/licenses/by-sa/3.0/",
    "https://creativecommons.org/licenses/by-sa/4.0/",
})

# Known and refused (not relicensable as CC BY); anything else is refused as unrecognised.
UNACCEPTABLE = frozenset({
    "",
    "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/1/",
    "https://creativecommons.org/licenses/by-nc/4.0/",
    "https://creativecommons.org/licenses/by-nc-sa/4.0/",
})


def licence_verdict(url: str | None) -> str:
    """Return 'acceptable', 'unacceptable' or 'unrecognised' for a dataset's licence URL (exact match)."""
    url = url or ""
    if url in ACCEPTABLE:
        return "acceptable"
    return "unacceptable" if url in UNACCEPTABLE else "unrecognised"
