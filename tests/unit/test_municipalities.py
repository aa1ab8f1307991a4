"""The municipality classification: built in, and a newer one named by the settings."""

from datetime import date
from pathlib import Path

import pytest

from workers.allocation.municipalities import UnknownMunicipality, configured
from workers.platform.settings import Settings

NEWER = Path(__file__).parents[1] / "fixtures" / "municipalities-2024-partial.jsonl"


def test_without_settings_the_built_in_structure_ends_with_2023():
    municipalities = configured(Settings())
    assert municipalities.get("4601", date(2023, 12, 31)).county_name == "Vestland"
    with pytest.raises(UnknownMunicipality):
        municipalities.get("4601", date(2024, 1, 1))


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
