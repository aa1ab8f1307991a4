"""The steering parameters and slices, each on a small hand-made cohort."""

from datetime import date

import pytest

from schemas.enums import CaseType, Category, SettlingAuthority
from tests.factories import Counties
from tests.unit.test_metrics import fact
from workers.figures.definitions import BY_ID, SHARES, steering_figures, waited_longer_than
from workers.figures.metrics import QualificationFact, SettledFact
from workers.figures.periods import BadValue, parse_period
from workers.figures.slices import breakdown, breakdown_keys

FAMILY = Category.FAMILY_WITH_CHILDREN
MINOR = Category.UNACCOMPANIED_MINOR


def figure(facts, metric_id):
    return next(m for m in steering_figures(facts) if m.id == metric_id)


def test_every_definition_has_an_id_a_definition_a_source_and_a_version():
    assert len({d.id for d in SHARES}) == len(SHARES)
    for d in SHARES:
        assert d.numerator
        assert d.denominator
        assert d.source
        assert d.unit in ("persons", "families")
        assert d.compute([]).version == "settlement/1"


def test_sp13_4_counts_families_and_its_twin_counts_their_members():
    permit = date(2020, 1, 10)
    quick = [fact(permit, date(2020, 3, 1), FAMILY, case_id="fam-a") for _ in range(3)]
    slow = [fact(permit, date(2020, 6, 1), FAMILY, case_id="fam-b") for _ in range(2)]
    private = [
        fact(permit, date(2020, 2, 1), FAMILY, case_id="fam-c", case_type=CaseType.PRIVATE_ADDRESS)
    ]
    families = figure(quick + slow + private, "SP13.4")
    persons = figure(quick + slow + private, "SP13.4-persons")
    assert (families.unit, families.numerator, families.denominator) == ("families", 1, 2)
    assert (persons.numerator, persons.denominator) == (3, 5)
    assert families.share == 0.5
    assert families.met is False


def test_protected_identities_count_in_k1_and_in_no_category_figure():
    permit = date(2020, 1, 10)
    facts = [
        fact(permit, date(2020, 2, 1), MINOR, protected=True),
        fact(permit, date(2020, 2, 1), MINOR),
    ]
    assert (figure(facts, "K1").numerator, figure(facts, "K1").denominator) == (2, 2)
    assert figure(facts, "SP13.3").denominator == 1


def test_sp13_3_splits_by_settling_authority():
    permit = date(2020, 1, 10)
    facts = [
        fact(permit, date(2020, 3, 1), MINOR, settled_by=SettlingAuthority.IMDI),
        fact(permit, date(2020, 6, 1), MINOR, settled_by=SettlingAuthority.BUFETAT),
        fact(permit, date(2020, 3, 1), MINOR, settled_by=SettlingAuthority.BUFETAT),
    ]
    assert figure(facts, "SP13.3-IMDi").share == 1.0
    assert figure(facts, "SP13.3-Bufetat").share == 0.5
    assert (figure(facts, "SP13.3").numerator, figure(facts, "SP13.3").denominator) == (2, 3)


def test_sp13_1_is_resettlement_only_and_an_empty_scope_has_no_share():
    facts = [fact(date(2020, 1, 10), date(2020, 2, 1))]
    result = figure(facts, "SP13.1")
    assert (result.denominator, result.share, result.met) == (0, None, None)
    assert BY_ID["SP13.1"].months == 6


def test_the_companion_count_of_k2_is_those_who_waited_more_than_a_year():
    facts = [
        fact(date(2019, 1, 10), date(2020, 1, 10)),  # exactly 12 months: within
        fact(date(2019, 1, 10), date(2020, 1, 11)),
    ]
    assert waited_longer_than(facts, 12) == 1


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2020", date(2020, 1, 1), date(2020, 12, 31)),
        ("2020-Q1", date(2020, 1, 1), date(2020, 3, 31)),
        ("2020-Q4", date(2020, 10, 1), date(2020, 12, 31)),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),
        ("12m:2020-12", date(2020, 1, 1), date(2020, 12, 31)),
        ("12m:2021-03", date(2020, 4, 1), date(2021, 3, 31)),
    ],
)
def test_periods(text, first, last):
    assert parse_period(text) == (first, last)


@pytest.mark.parametrize("text", ["2020-Q5", "2020-13", "20", "12m:2020-00"])
def test_a_bad_period_is_named(text):
    with pytest.raises(BadValue, match="must be"):
        parse_period(text)


def test_a_breakdown_leaves_protected_identities_out_of_every_group_but_the_total():
    permit = date(2020, 1, 10)
    facts = [
        fact(permit, date(2020, 2, 1), municipality="0301"),
        fact(permit, date(2020, 2, 1), municipality="5401", protected=True),
    ]
    keys = breakdown_keys(Counties({"0301": "Oslo", "5401": "Troms"}.__getitem__))
    groups = breakdown(facts, keys["county"])
    assert [(g.group, g.settled) for g in groups] == [("Oslo", 1), ("total", 2)]


def qfact(**kw):
    base = {
        "person_id": "p",
        "case_type": CaseType.RECEPTION,
        "programme_right": "right_and_obligation",
        "norwegian_right": "right_and_obligation",
        "settled_on": date(2021, 3, 1),
        "rights_start": date(2021, 1, 10),
        "programme_started_on": None,
        "programme_ended_on": None,
        "main_activity": None,
        "norwegian_started_on": None,
    }
    return QualificationFact(**(base | kw))


def test_qualification_figures_count_their_cohorts():
    facts = [
        qfact(programme_started_on=date(2021, 6, 1), norwegian_started_on=date(2021, 4, 10)),
        qfact(programme_started_on=date(2021, 6, 2), norwegian_started_on=date(2021, 5, 1)),
        qfact(programme_right="may_be_offered", norwegian_right="none"),
        qfact(settled_on=date(2022, 1, 5), rights_start=date(2021, 12, 1)),
        qfact(programme_ended_on=date(2021, 11, 1), main_activity="work"),
        qfact(programme_ended_on=date(2021, 11, 2), main_activity="other"),
    ]
    figures = {
        m.id: (m.numerator, m.denominator)
        for m in steering_figures([], facts, date(2021, 1, 1), date(2021, 12, 31))
    }
    # K13: four got the right in 2021 (settled then; one may only be offered a programme, one
    # settled in 2022); the first started on the last day of its three months, the second a
    # day late.
    assert figures["K13"] == (1, 4)
    # SP4: the 2021 cohort by rights start (five); within 3 months: one; within 6: two.
    assert figures["SP4"] == (1, 5)
    assert figures["SP4-6m"] == (2, 5)
    assert figures["K15"] == (1, 2)


def test_sp6_counts_mapping_done_by_the_settlement_date():
    permit = date(2020, 1, 10)
    facts = [
        fact(permit, date(2020, 3, 1)),
        fact(permit, date(2020, 3, 1), case_id="case-2"),
    ]
    facts[0] = SettledFact(**{**facts[0].__dict__, "competence_mapped": True})
    assert (
        figure(facts, "SP6-reception").numerator,
        figure(facts, "SP6-reception").denominator,
    ) == (1, 2)
    assert figure(facts, "SP6-resettlement").denominator == 0


def test_a_candidate_version_is_computed_beside_the_current_one():
    from workers.figures.definitions import UnknownVersion, compare_versions

    permit = date(2020, 1, 10)
    facts = [
        fact(permit, date(2020, 3, 1)),
        fact(permit, date(2020, 9, 1), case_id="case-2", case_type=CaseType.PRIVATE_ADDRESS),
    ]
    current = steering_figures(facts)
    candidate = steering_figures(facts, version="settlement/2")
    assert {m.version for m in candidate} == {"settlement/2"}
    changed = {d.id: d for d in compare_versions(current, candidate) if d.changed}
    # Only SP13.2 reads "from reception" differently for these two adults.
    assert list(changed) == ["SP13.2"]
    assert (changed["SP13.2"].current.denominator, changed["SP13.2"].candidate.denominator) == (
        1,
        2,
    )
    with pytest.raises(UnknownVersion, match="definitions"):
        steering_figures(facts, version="settlement/9")


def test_a_family_that_moves_in_two_steps_counts_from_its_first_move():
    permit = date(2020, 1, 10)
    split = [
        fact(permit, date(2020, 3, 1), FAMILY, case_id="fam-split"),
        fact(permit, date(2020, 6, 1), FAMILY, case_id="fam-split"),
    ]
    families = figure(split, "SP13.4")
    persons = figure(split, "SP13.4-persons")
    assert (families.numerator, families.denominator) == (1, 1)
    assert (persons.numerator, persons.denominator) == (1, 2)
