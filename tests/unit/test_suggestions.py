"""Ranked allocation suggestions: the rules of domain.md §2.1 as weights with reasons."""

from datetime import date

import pytest

from schemas.commands import PersonRecord
from schemas.enums import CaseStage, CaseType, EducationLevel, RecommendationReason, ServiceNeed
from schemas.places import PlacesLedger, RecordPlacesDecision, Reservation
from schemas.state import CaseState, Recommendation
from workers.allocation.suggestions import MunicipalityProfile, ProfileError, load_profiles, suggest

R = RecommendationReason


def case(**changes) -> CaseState:
    base = CaseState(
        case_id="case-s1",
        case_type=CaseType.RECEPTION,
        stage=CaseStage.SETTLEMENT_READY,
        permit_date=date(2020, 3, 2),
        persons=[
            PersonRecord(person_id="case-s1-p0", birth_date=date(1985, 1, 1)),
            PersonRecord(person_id="case-s1-p1", birth_date=date(1987, 1, 1)),
        ],
        target_months=6,
        target_date=date(2020, 9, 2),
    )
    return base.model_copy(update=changes)


def ledger(number: str, decided: int, used: int = 0, held: int = 0, minors: int = 0):
    reservations = {"x/held": Reservation(case_id="case-x", persons=held)} if held else {}
    return PlacesLedger(
        municipality_number=number,
        year=2020,
        decision=RecordPlacesDecision(
            command_id="d",
            decided_on=date(2019, 12, 1),
            requested=decided,
            decided=decided,
            decided_unaccompanied_minors=minors,
        ),
        used=used,
        reservations=reservations,
    )


LEDGERS = [ledger("0301", 20, used=5), ledger("4601", 10, used=9), ledger("5001", 10, held=9)]


def test_a_municipality_without_room_for_the_household_is_not_suggested():
    numbers = [s.municipality_number for s in suggest(case(), LEDGERS, date(2020, 4, 1))]
    assert "5001" not in numbers  # one place left, two persons
    assert "4601" not in numbers
    assert numbers == ["0301"]


def test_a_recommendation_outranks_close_family_which_outranks_competence():
    ledgers = [ledger(n, 50) for n in ("0301", "4601", "5001", "1103")]
    profiles = {"1103": MunicipalityProfile(number="1103", higher_education=True)}
    state = case(
        recommendation=Recommendation(
            municipality_number="5001", reason=R.COMPETENCE, recommended_on=date(2020, 3, 20)
        ),
        close_family_municipality="4601",
        education_level=EducationLevel.HIGHER,
    )
    ranked = suggest(state, ledgers, date(2020, 4, 1), profiles)
    assert [s.municipality_number for s in ranked] == ["5001", "4601", "1103", "0301"]
    assert ranked[0].reasons == [R.RECOMMENDED, R.PLACES_LEFT]
    assert ranked[1].reasons == [R.CLOSE_FAMILY, R.PLACES_LEFT]
    assert ranked[2].reasons == [R.COMPETENCE, R.PLACES_LEFT]


def test_an_unmet_need_sinks_a_municipality_and_is_named():
    ledgers = [ledger("0301", 50), ledger("4601", 50)]
    profiles = {
        "0301": MunicipalityProfile(number="0301", services=frozenset()),
        "4601": MunicipalityProfile(
            number="4601", services=frozenset({ServiceNeed.ACCESSIBLE_HOUSING})
        ),
    }
    state = case(service_needs=[ServiceNeed.ACCESSIBLE_HOUSING])
    first, second = suggest(state, ledgers, date(2020, 4, 1), profiles)
    assert (first.municipality_number, first.reasons[0]) == ("4601", R.SERVICES)
    assert second.unmet_needs == [ServiceNeed.ACCESSIBLE_HOUSING]


def test_near_year_end_the_least_used_municipality_goes_first():
    ledgers = [ledger("0301", 20, used=15), ledger("4601", 20, used=2)]
    spring = suggest(case(), ledgers, date(2020, 4, 1))
    autumn = suggest(case(), ledgers, date(2020, 10, 15))
    assert autumn[0].municipality_number == "4601"
    assert R.LEAST_USED in autumn[0].reasons
    assert all(R.LEAST_USED not in s.reasons for s in spring)
    assert autumn[0].share_used == 0.1


def test_unaccompanied_minors_need_minors_places():
    minor = case(
        persons=[PersonRecord(person_id="case-s1-p0", birth_date=date(2004, 1, 1))],
    )
    ledgers = [ledger("0301", 50, minors=0), ledger("4601", 5, minors=2)]
    assert [s.municipality_number for s in suggest(minor, ledgers, date(2020, 4, 1))] == ["4601"]


def test_profiles_are_read_from_json_lines_and_a_bad_line_is_named(tmp_path):
    good = tmp_path / "profiles.jsonl"
    good.write_text(
        '{"number": "4601", "higher_education": true, "services": ["specialist_health"]}\n\n'
    )
    assert load_profiles(good)["4601"].services == {ServiceNeed.SPECIALIST_HEALTH}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"number": "4601"}\n{"number": "46"}\n')
    with pytest.raises(ProfileError, match=r"bad.jsonl line 2: .*number"):
        load_profiles(bad)
