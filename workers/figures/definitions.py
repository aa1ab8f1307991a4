"""The official settlement figures, each with its definition in code (domain.md §3.2, §3.4).

Every metric has an id, a name, what it counts above and below the line, its unit, its
reference, its target, its source in the 2020 annual report, and a version. Change a
definition and you change its version: a figure is always reported with the version that
produced it.

Common ground (version ``settlement/1``):
- t0 is the permit decision date (the person's own, for members who joined later), t1 the
  settlement date; a person or family counts in a period when t1 falls in it.
- "within N months": t1 <= t0 + N calendar months (day of month kept, clamped to the month's
  end: 31 Aug + 6 months = 28/29 Feb). See metrics.add_months.
- Persons with protected identity count in all-refugee totals and in no category-scoped or
  family-scoped figure (Table 3-1-1 fn 1).
- "From reception" is the reception-centre track (case type ``reception``) [INFERRED: the
  report does not say whether private-address refugees count; they do not here].
- Families (SP13.4): a household of the category "family with children" from reception is
  one family. Its t1 is the first settlement date of its members in the period, its t0 the
  earliest permit date among them [INFERRED: families move together; the report counts
  families without saying how a split move counts].

Pure: plain data in, plain data out."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date

from schemas.calendar import add_months
from schemas.enums import CaseType, Category, SettlingAuthority
from workers.figures.metrics import (
    DEFINITIONS_VERSION,
    MetricResult,
    QualificationFact,
    SettledFact,
    settled_within,
)


@dataclass(frozen=True)
class ShareWithin:
    """Share of persons (or families) in scope settled within ``months`` of the permit, or,
    with ``hit``, for whom ``hit`` holds."""

    id: str
    name: str
    numerator: str
    denominator: str
    months: int
    target: float | None
    source: str
    scope: Callable[[SettledFact], bool]
    unit: str = "persons"
    reference: str = "settlement date (t1) in the period"
    hit: Callable[[SettledFact], bool] | None = None

    def compute(self, facts: Iterable[SettledFact]) -> MetricResult:
        in_scope = [f for f in facts if self.scope(f)]
        if self.unit == "families":
            units = [_family_within(members, self.months) for members in _families(in_scope)]
        elif self.hit is not None:
            units = [self.hit(f) for f in in_scope]
        else:
            units = [settled_within(f, self.months) for f in in_scope]
        hits = sum(units)
        return MetricResult(
            id=self.id,
            name=self.name,
            unit=self.unit,
            numerator=hits,
            denominator=len(units),
            share=hits / len(units) if units else None,
            target=self.target,
        )


def _families(facts: list[SettledFact]) -> list[list[SettledFact]]:
    by_case: dict[str, list[SettledFact]] = {}
    for f in facts:
        by_case.setdefault(f.case_id, []).append(f)
    return list(by_case.values())


def _family_within(members: list[SettledFact], months: int) -> bool:
    t0 = min(m.permit_date for m in members)
    t1 = min(m.settled_on for m in members)
    return t1 <= add_months(t0, months)


def _category(f: SettledFact, category: Category) -> bool:
    return f.category is category and not f.protected_identity


def _from_reception(f: SettledFact) -> bool:
    return f.case_type is CaseType.RECEPTION


SHARES: tuple[ShareWithin, ...] = (
    ShareWithin(
        id="K1",
        name="Refugees settled within 6 months",
        numerator="persons settled in the period with t1 <= t0 + 6 months",
        denominator="all refugees settled in the period",
        months=6,
        target=0.90,
        source="SEED L638-648, L1671-1675",
        scope=lambda f: True,
    ),
    ShareWithin(
        id="K2",
        name="Refugees settled within 12 months",
        numerator="persons settled in the period with t1 <= t0 + 12 months",
        denominator="all refugees settled in the period",
        months=12,
        target=1.00,
        source="SEED L650-662",
        scope=lambda f: True,
    ),
    ShareWithin(
        id="SP13.1",
        name="Resettlement refugees settled within 6 months of the entry permit",
        numerator="resettlement refugees settled in the period within 6 months",
        denominator="resettlement refugees settled in the period, directly or via reception",
        months=6,
        target=0.90,
        source="SEED L665-680, L1703-1710 (the text's 21% counts only those settled directly)",
        scope=lambda f: f.case_type is CaseType.RESETTLEMENT,
    ),
    ShareWithin(
        id="SP13.2",
        name="Adults settled from reception within 6 months",
        numerator="other adults (not in families with children) from reception, within 6 months",
        denominator="other adults settled from reception in the period",
        months=6,
        target=0.90,
        source="SEED L682-693, L1690-1692",
        scope=lambda f: _category(f, Category.OTHER_ADULT) and _from_reception(f),
    ),
    ShareWithin(
        id="SP13.3",
        name="Unaccompanied minors settled within 3 months",
        numerator="unaccompanied minors settled in the period within 3 months",
        denominator="all unaccompanied minors settled in the period",
        months=3,
        target=0.80,
        source="SEED L695-710, L1695-1712",
        scope=lambda f: _category(f, Category.UNACCOMPANIED_MINOR),
    ),
    ShareWithin(
        id="SP13.3-IMDi",
        name="Unaccompanied minors 15-17 (IMDi) settled within 3 months",
        numerator="unaccompanied minors settled by IMDi in the period within 3 months",
        denominator="unaccompanied minors settled by IMDi in the period",
        months=3,
        target=0.80,
        source="SEED L695-710 (2020: 39%)",
        scope=lambda f: (
            _category(f, Category.UNACCOMPANIED_MINOR) and f.settled_by is SettlingAuthority.IMDI
        ),
    ),
    ShareWithin(
        id="SP13.3-Bufetat",
        name="Unaccompanied minors under 15 (Bufetat) settled within 3 months",
        numerator="unaccompanied minors settled by Bufetat in the period within 3 months",
        denominator="unaccompanied minors settled by Bufetat in the period",
        months=3,
        target=0.80,
        source="SEED L695-710 (2020: 17%)",
        scope=lambda f: (
            _category(f, Category.UNACCOMPANIED_MINOR) and f.settled_by is SettlingAuthority.BUFETAT
        ),
    ),
    ShareWithin(
        id="SP13.4",
        name="Families with children settled from reception within 3 months",
        numerator="families with children from reception settled in the period within 3 months",
        denominator="families with children settled from reception in the period",
        months=3,
        target=0.80,
        source="SEED L729-745, L1689-1691 (2020: 157 families)",
        scope=lambda f: _category(f, Category.FAMILY_WITH_CHILDREN) and _from_reception(f),
        unit="families",
    ),
    ShareWithin(
        id="SP13.4-persons",
        name="Members of families with children settled from reception within 3 months",
        numerator="members of families with children from reception, within 3 months",
        denominator="members of families with children settled from reception in the period",
        months=3,
        target=None,
        source="SEED L729-745 (the text's person-level 55% of 512 members)",
        scope=lambda f: _category(f, Category.FAMILY_WITH_CHILDREN) and _from_reception(f),
    ),
)
"""The steering parameters and headline shares, in the order the report prints them."""

MAPPING: tuple[ShareWithin, ...] = (
    ShareWithin(
        id="SP6-resettlement",
        name="Resettlement refugees settled with competence mapping",
        numerator="resettlement refugees settled in the period whose mapping was done first",
        denominator="resettlement refugees settled in the period",
        months=0,
        target=1.00,
        source="SEED L493-520 (2020: 93%; the report counts those over 15, whose ages are not "
        "on the events: here every member counts)",
        scope=lambda f: f.case_type is CaseType.RESETTLEMENT,
        hit=lambda f: f.competence_mapped,
    ),
    ShareWithin(
        id="SP6-reception",
        name="Refugees settled from reception with competence mapping",
        numerator="persons settled from reception in the period whose mapping was done first",
        denominator="persons settled from reception in the period",
        months=0,
        target=1.00,
        source="SEED L493-520, L1798-1812 (2020: 75%; target group over 16 [INFERRED])",
        scope=_from_reception,
        hit=lambda f: f.competence_mapped,
    ),
)


@dataclass(frozen=True)
class QualificationShare:
    """Share of a qualification cohort for whom ``hit`` holds; the cohort is the persons whose
    ``reference`` date falls in the period."""

    id: str
    name: str
    numerator: str
    denominator: str
    target: float | None
    source: str
    reference: Callable[[QualificationFact], date | None]
    scope: Callable[[QualificationFact], bool]
    hit: Callable[[QualificationFact], bool]
    unit: str = "persons"

    def compute(self, facts: Iterable[QualificationFact], start: date, end: date) -> MetricResult:
        cohort = [
            f
            for f in facts
            if self.scope(f) and (day := self.reference(f)) is not None and start <= day <= end
        ]
        hits = sum(self.hit(f) for f in cohort)
        return MetricResult(
            id=self.id,
            name=self.name,
            unit=self.unit,
            numerator=hits,
            denominator=len(cohort),
            share=hits / len(cohort) if cohort else None,
            target=self.target,
        )


def _started_within(started: date | None, start: date, months: int) -> bool:
    return started is not None and started <= add_months(start, months)


RIGHT_AND_OBLIGATION = "right_and_obligation"
WORK_OR_EDUCATION = {"work", "education", "work_and_education"}

QUALIFICATION: tuple[QualificationShare, ...] = (
    QualificationShare(
        id="K13",
        name="Introduction programme started within 3 months",
        numerator="persons who got right and obligation in the period and started within "
        "3 months of settlement",
        denominator="persons who got right and obligation to the programme in the period "
        "(at settlement [INFERRED])",
        target=None,
        source="SEED L2350-2360 (2020: 61%, n = 1,936)",
        reference=lambda f: f.settled_on,
        scope=lambda f: f.programme_right == RIGHT_AND_OBLIGATION,
        hit=lambda f: _started_within(f.programme_started_on, f.settled_on, 3),
    ),
    QualificationShare(
        id="SP4",
        name="Norwegian training started within 3 months of the right",
        numerator="persons of the cohort who started within 3 months of entering the right",
        denominator="persons who entered right and obligation in the period (the cohort)",
        target=0.90,
        source="SEED L458-470, L2237-2265 (reported for year Y is cohort Y-1; 2019: 52%)",
        reference=lambda f: f.rights_start,
        scope=lambda f: f.norwegian_right == RIGHT_AND_OBLIGATION,
        hit=lambda f: _started_within(f.norwegian_started_on, f.rights_start, 3),
    ),
    QualificationShare(
        id="SP4-6m",
        name="Norwegian training started within 6 months of the right",
        numerator="persons of the cohort who started within 6 months of entering the right",
        denominator="persons who entered right and obligation in the period (the cohort)",
        target=None,
        source="SEED L2237-2265",
        reference=lambda f: f.rights_start,
        scope=lambda f: f.norwegian_right == RIGHT_AND_OBLIGATION,
        hit=lambda f: _started_within(f.norwegian_started_on, f.rights_start, 6),
    ),
    QualificationShare(
        id="K15",
        name="Direct transition to work or education on leaving the programme",
        numerator="persons leaving the programme in the period into work or education",
        denominator="persons leaving the programme in the period",
        target=None,
        source="SEED (main activity on leaving, NIR; SP3 is the SSB status a year later)",
        reference=lambda f: f.programme_ended_on,
        scope=lambda f: True,
        hit=lambda f: f.main_activity in WORK_OR_EDUCATION,
    ),
)

BY_ID = {d.id: d for d in (*SHARES, *MAPPING)}


def _asylum_based(f: SettledFact) -> bool:
    return f.case_type in (CaseType.RECEPTION, CaseType.PRIVATE_ADDRESS)


_ASYLUM_SCOPES: dict[str, Callable[[SettledFact], bool]] = {
    "SP13.2": lambda f: _category(f, Category.OTHER_ADULT) and _asylum_based(f),
    "SP13.4": lambda f: _category(f, Category.FAMILY_WITH_CHILDREN) and _asylum_based(f),
    "SP13.4-persons": lambda f: _category(f, Category.FAMILY_WITH_CHILDREN) and _asylum_based(f),
}

VERSIONS: dict[str, tuple[ShareWithin, ...]] = {
    DEFINITIONS_VERSION: (*SHARES, *MAPPING),
    # A candidate, to compute beside the current version before any switch: "from reception"
    # read as every asylum-based refugee, private address included (the report leaves it
    # open, see the module's [INFERRED] notes).
    "settlement/2": (
        *(replace(d, scope=_ASYLUM_SCOPES[d.id]) if d.id in _ASYLUM_SCOPES else d for d in SHARES),
        *MAPPING,
    ),
}
"""Every version of the definitions the code can compute; the first is the current one."""


class UnknownVersion(ValueError):
    pass


def steering_figures(
    facts: Iterable[SettledFact],
    qualification: Iterable[QualificationFact] = (),
    start: date = date.min,
    end: date = date.max,
    version: str = DEFINITIONS_VERSION,
) -> list[MetricResult]:
    """Every figure of the report for persons settled in the period (``facts`` already
    filtered to it) and the qualification cohorts whose reference dates fall in it, by one
    version of the definitions."""
    if version not in VERSIONS:
        raise UnknownVersion(f"definitions: {version!r} is not one of {', '.join(VERSIONS)}")
    facts = list(facts)
    qualification = list(qualification)
    results = [
        *(d.compute(facts) for d in VERSIONS[version]),
        *(d.compute(qualification, start, end) for d in QUALIFICATION),
    ]
    return [r.model_copy(update={"version": version}) for r in results]


@dataclass(frozen=True)
class Difference:
    id: str
    current: MetricResult
    candidate: MetricResult

    @property
    def changed(self) -> bool:
        return (self.current.numerator, self.current.denominator) != (
            self.candidate.numerator,
            self.candidate.denominator,
        )


def compare_versions(
    current: list[MetricResult], candidate: list[MetricResult]
) -> list[Difference]:
    """The same figures by two versions, side by side, before switching."""
    by_id = {m.id: m for m in candidate}
    return [Difference(m.id, m, by_id[m.id]) for m in current if m.id in by_id]


def waited_longer_than(facts: Iterable[SettledFact], months: int) -> int:
    """Companion count of K2: settled in the period after waiting more than N months
    (2020: 263 after more than a year)."""
    return sum(not settled_within(f, months) for f in facts)


def in_period(facts: Iterable[SettledFact], start: date, end: date) -> list[SettledFact]:
    return [f for f in facts if start <= f.settled_on <= end]
