"""The municipality classification: built in, and a newer one named by the settings."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from workers.allocation.municipalities import UnknownMunicipality, configured
from workers.platform.settings import Settings

NEWER = Path(__file__).parents[1] / "fixtures" / "municipalities-2024-partial.jsonl"


def test_without_settings_every_day_from_2020_to_today_has_its_structure():
    municipalities = configured(Settings())
    assert municipalities.get("3024", date(2023, 12, 31)).county_name == "Viken"
    with pytest.raises(UnknownMunicipality):
        municipalities.get("3024", date(2024, 1, 1))  # Bærum was renumbered
    baerum = municipalities.get("3201", date(2024, 1, 1))
    assert (baerum.name, baerum.county_number, baerum.county_name) == ("Bærum", "32", "Akershus")
    assert municipalities.get("0301", datetime.now(UTC).date()).name == "Oslo"
    assert municipalities.get("5612", date(2026, 6, 1)).name == "Guovdageaidnu - Kautokeino"


def test_the_2024_structure_is_the_one_statistics_norway_published():
    from workers.allocation.municipalities import structure_2024

    structure = structure_2024()
    assert len(structure.municipalities) == 357
    assert len({m.county_number for m in structure.municipalities.values()}) == 15
    assert structure.valid_from == date(2024, 1, 1)


def test_each_2020_municipality_has_its_2024_successors():
    from workers.allocation.municipalities import structure_2020, structure_2024

    old, new = structure_2020().municipalities, structure_2024()
    assert new.successors_of("1507") == ["1508", "1580"]  # Ålesund split: Haram again
    assert new.successors_of("3054") == ["3234"]  # Lunner: from Viken to Akershus
    assert new.successors_of("0301") == ["0301"]
    reached = {s for number in old for s in new.successors_of(number)}
    assert reached == set(new.municipalities)  # every 2024 municipality comes from one of 2020
    for number, m in old.items():  # the same municipality: its name is in its successor's
        named = [s for s in new.successors_of(number) if m.name in new.municipalities[s].name]
        assert named, number


def test_the_structures_before_2020_are_those_statistics_norway_published():
    from workers.allocation.municipalities import structures_before_2020

    sizes = [
        (
            c.valid_from.year,
            len(c.municipalities),
            len({m.county_number for m in c.municipalities.values()}),
        )
        for c in structures_before_2020()
    ]
    assert sizes == [(2016, 428, 19), (2017, 426, 19), (2018, 422, 18)]
    municipalities = configured(Settings())
    assert municipalities.get("1201", date(2019, 12, 31)).county_name == "Hordaland"
    assert municipalities.get("0710", date(2017, 1, 1)).name == "Sandefjord"
    assert municipalities.get("5054", date(2018, 1, 1)).name == "Indre Fosen"
    with pytest.raises(UnknownMunicipality):
        municipalities.get("1601", date(2018, 1, 1))  # Trondheim was 5001 from 2018
    with pytest.raises(UnknownMunicipality, match="no municipality classification covers"):
        municipalities.get("0301", date(2015, 12, 31))


def test_every_2019_municipality_reaches_2020_and_every_2020_one_comes_from_2019():
    from workers.allocation.municipalities import structure_2020, structures_before_2020

    before, after = structures_before_2020()[-1].municipalities, structure_2020()
    reached = {s for number in before for s in after.successors_of(number)}
    assert reached == set(after.municipalities)
    assert after.successors_of("5012") == ["5059", "5056", "5055"]  # Snillfjord divided
    assert after.successors_of("1444") == ["1577"]  # Hornindal went to Volda


@pytest.mark.parametrize(
    ("number", "recorded", "day", "expected"),
    [
        ("0719", "Andebu 2016", date(2024, 6, 1), ("3907", "Sandefjord", "Vestfold")),
        ("1601", "Trondheim 2017", date(2018, 6, 1), ("5001", "Trondheim", "Trøndelag")),
        ("1201", "Bergen 2019", date(2020, 1, 1), ("4601", "Bergen", "Vestland")),
        ("1534", "Haram 2019", date(2022, 6, 1), ("1507", "Ålesund", "Møre og Romsdal")),
        ("1534", "Haram 2019", date(2024, 6, 1), ("1580", "Haram", "Møre og Romsdal")),
        ("1850", "Tysfjord 2019", date(2020, 6, 1), ("1806", "Narvik", "Nordland")),
        ("0213", "Ski 2019", date(2025, 1, 1), ("3207", "Nordre Follo", "Akershus")),
    ],
)
def test_a_number_of_an_earlier_structure_is_followed_through_each_reform(
    number, recorded, day, expected
):
    m = configured(Settings()).in_force(number, day)
    assert (m.number, m.name, m.county_name) == expected, recorded


def test_a_later_structure_from_a_file_ends_the_built_in_one_the_day_before(tmp_path):
    later = tmp_path / "later.jsonl"
    later.write_text(
        '{"number": "0301", "name": "Oslo", "county_number": "03", "county_name": "Oslo"}\n'
    )
    municipalities = configured(
        Settings(
            municipality_classification_file=later,
            municipality_classification_valid_from=date(2027, 1, 1),
        )
    )
    assert municipalities.get("4601", date(2026, 12, 31)).name == "Bergen"
    with pytest.raises(UnknownMunicipality):
        municipalities.get("4601", date(2027, 1, 1))
    assert municipalities.get("0301", date(2027, 1, 1)).name == "Oslo"


def test_the_settings_load_a_newer_structure_from_its_first_day():
    municipalities = configured(
        Settings(
            municipality_classification_file=NEWER,
            municipality_classification_valid_from=date(2024, 1, 1),
        )
    )
    assert municipalities.get("5001", date(2024, 1, 1)).county_name == "Trøndelag"
    assert municipalities.get("5001", date(2023, 12, 31)).name == "Trondheim"


def test_a_file_without_its_date_is_refused_naming_both_settings():
    with pytest.raises(ValueError, match="set both, or neither"):
        configured(Settings(municipality_classification_file=NEWER))


def test_a_settlement_after_a_renumbering_counts_in_the_county_its_municipality_went_to():
    municipalities = configured(Settings())
    assert municipalities.county_on("3024", date(2023, 12, 1)) == "Viken"
    assert municipalities.county_on("3024", date(2024, 1, 15)) == "Akershus"  # Bærum, as 3201
    assert municipalities.county_on("5444", date(2024, 2, 1)) == "Finnmark"  # Sør-Varanger
    assert municipalities.county_on("1507", date(2024, 3, 1)) == "Møre og Romsdal"
    with pytest.raises(UnknownMunicipality):
        municipalities.county_on("9998", date(2024, 3, 1))
