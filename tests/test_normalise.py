import pytest

from spiders.pipelines.normalise import clean_text, normalise_item, parse_date, parse_number
from spiders.sources.mutual_aid.items import Group
from spiders.sources.threesixty_giving.items import Grant


@pytest.mark.parametrize("raw,expected", [
    ("£1,000.50", 1000.5), ("12", 12.0), (3.5, 3.5), (7, 7.0), ("", None), (None, None), (r"\N", None),
    (" 2,500 ", 2500.0), ("-40", -40.0),
])
def test_parse_number(raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "£12k", "1.2.3", "ten pounds"])
def test_parse_number_rejects(raw):
    with pytest.raises(ValueError, match="not a number"):
        parse_number(raw)


@pytest.mark.parametrize("raw,expected", [
    ("2020-04-01", "2020-04-01"), ("2015-11-17T00:00:00+00:00", "2015-11-17"), ("2020-05-15T21:28:16.577Z", "2020-05-15"),
    ("17/11/2015", "2015-11-17"), ("2014", "2014"), ("", None), (None, None),
])
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


def test_parse_date_rejects():
    with pytest.raises(ValueError, match="not a date"):
        parse_date("next Tuesday")


def test_clean_text_folds_space_and_empties():
    assert clean_text("  Abbey \n Wood  ") == "Abbey Wood"
    assert clean_text("   ") is None


def test_normalise_grant_collects_problems_and_keeps_good_fields():
    g = Grant(source="threesixty_giving", ref="360G-x-1", name=" A grant ", amount="lots", award_date="2020-13-45",
              postcode="se1 7pb", latitude="51.5", longitude="-0.1")
    normalise_item(g)
    assert g.name == "A grant"
    assert g.postcode == "SE1 7PB"
    assert (g.latitude, g.longitude) == (51.5, -0.1)
    assert any(p.startswith("amount not a number") for p in g.problems)
    assert any(p.startswith("award_date not a date") for p in g.problems)


def test_bad_coordinates_become_missing_not_a_problem():
    g = Group(source="mutual_aid", ref="x", name="G", latitude="north", longitude="0")
    normalise_item(g)
    assert g.latitude is None and g.problems == []
    z = Group(source="mutual_aid", ref="y", name="Z", latitude=0, longitude=0)
    normalise_item(z)
    assert z.latitude is None and z.longitude is None


def test_invalid_postcode_is_kept_as_given_for_the_resolver_to_explain():
    g = Group(source="mutual_aid", ref="x", name="G", postcode="SW1A 1OA")
    normalise_item(g)
    assert g.postcode == "SW1A 1OA"
