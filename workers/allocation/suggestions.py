"""Ranked allocation suggestions: which municipalities a household could go to, best first,
each with the reasons for it (domain.md §2.1, "allocation heuristics").

The caseworker decides; the list helps. The ranking is a sum of documented weights, so every
position can be explained by its reasons:

- the integration reception centre recommended it (A6-IM; IMDi usually follows): +50;
- close family lives there, which often outweighs competence (SEED L1735–1745): +40;
- it offers every service the household needs (PUB-1): +30, and −30 for each it lacks;
- competence fits its education offer (SEED L1735–1745): +20;
- resettlement refugees, and it is experienced with them (PUB-11): +10;
- near year end (from 1 October) the municipality that has used the smallest share of its
  decided places goes first (SEED L1746–1751): up to +20, in proportion to the share unused;
- and always a little for places left: up to +5.

A municipality without enough places left for the household (of the right kind: minors'
places for unaccompanied minors) is not suggested at all: allocating there would be refused.

Municipality profiles (education offer, services, resettlement experience) are data the
directorate keeps; they are read from a JSON Lines file, one municipality per line::

    {"number": "4601", "higher_education": true, "adult_upper_secondary": true,
     "services": ["specialist_health"], "resettlement_experience": true}

Without profiles the ranking uses recommendation, family, places and the year-end rule."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.enums import (
    CaseType,
    Category,
    EducationLevel,
    RecommendationReason,
    ServiceNeed,
)
from schemas.ids import MunicipalityNumber
from schemas.places import PlacesLedger
from schemas.state import CaseState
from workers.platform.validation import describe
from workflows.rules import household_category

RECOMMENDED_WEIGHT = 50
CLOSE_FAMILY_WEIGHT = 40
SERVICES_WEIGHT = 30
COMPETENCE_WEIGHT = 20
EXPERIENCE_WEIGHT = 10
LEAST_USED_WEIGHT = 20
PLACES_WEIGHT = 5
YEAR_END_FROM = (10, 1)
"""Month and day from which the year-end rule applies [INFERRED: the report says "towards
the end of the year"]."""


class MunicipalityProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: MunicipalityNumber
    higher_education: bool = False
    """A university or university college within reach."""
    adult_upper_secondary: bool = False
    """Upper-secondary education for adults."""
    services: frozenset[ServiceNeed] = frozenset()
    resettlement_experience: bool = False


class ProfileError(ValueError):
    pass


def load_profiles(path: Path) -> dict[str, MunicipalityProfile]:
    profiles: dict[str, MunicipalityProfile] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            profile = MunicipalityProfile.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ProfileError(f"{path.name} line {number}: not JSON: {exc.msg}") from None
        except ValidationError as exc:
            raise ProfileError(f"{path.name} line {number}: {describe(exc)}") from None
        profiles[profile.number] = profile
    return profiles


@dataclass(frozen=True)
class Suggestion:
    municipality_number: str
    score: float
    reasons: list[RecommendationReason]
    places_left: int
    share_used: float | None
    """Of the decided places, the share used so far."""
    unmet_needs: list[ServiceNeed]

    def as_json(self) -> dict[str, object]:
        return {
            "municipality_number": self.municipality_number,
            "score": self.score,
            "reasons": [r.value for r in self.reasons],
            "places_left": self.places_left,
            "share_used": self.share_used,
            "unmet_needs": [n.value for n in self.unmet_needs],
        }


def suggest(
    case: CaseState,
    ledgers: Iterable[PlacesLedger],
    on: date,
    profiles: dict[str, MunicipalityProfile] | None = None,
    limit: int = 10,
) -> list[Suggestion]:
    """The municipalities with room for the household on ``on``, best first."""
    unsettled = case.unsettled()
    minors = household_category(unsettled, on) is Category.UNACCOMPANIED_MINOR
    year_end = (on.month, on.day) >= YEAR_END_FROM
    ranked = []
    for ledger in ledgers:
        left = ledger.left(minors)
        if ledger.decision is None or left < len(unsettled):
            continue
        profile = (profiles or {}).get(ledger.municipality_number)
        ranked.append(_score(case, ledger, profile, left, minors, year_end))
    ranked.sort(key=lambda s: (-s.score, s.municipality_number))
    return ranked[:limit]


def _score(
    case: CaseState,
    ledger: PlacesLedger,
    profile: MunicipalityProfile | None,
    left: int,
    minors: bool,
    year_end: bool,
) -> Suggestion:
    number = ledger.municipality_number
    score = 0.0
    reasons: list[RecommendationReason] = []
    if case.recommendation is not None and case.recommendation.municipality_number == number:
        score += RECOMMENDED_WEIGHT
        reasons.append(RecommendationReason.RECOMMENDED)
    if case.close_family_municipality == number:
        score += CLOSE_FAMILY_WEIGHT
        reasons.append(RecommendationReason.CLOSE_FAMILY)
    unmet: list[ServiceNeed] = []
    if profile is not None:
        unmet = [n for n in case.service_needs if n not in profile.services]
        if case.service_needs and not unmet:
            score += SERVICES_WEIGHT
            reasons.append(RecommendationReason.SERVICES)
        score -= SERVICES_WEIGHT * len(unmet)
        if _competence_fits(case.education_level, profile):
            score += COMPETENCE_WEIGHT
            reasons.append(RecommendationReason.COMPETENCE)
        if case.case_type is CaseType.RESETTLEMENT and profile.resettlement_experience:
            score += EXPERIENCE_WEIGHT
            reasons.append(RecommendationReason.RESETTLEMENT_EXPERIENCE)
    assert ledger.decision is not None
    decided = ledger.decision.decided_unaccompanied_minors if minors else ledger.decision.decided
    used = ledger.used_unaccompanied_minors if minors else ledger.used
    share_used = used / decided if decided else None
    if year_end and share_used is not None:
        score += LEAST_USED_WEIGHT * (1 - share_used)
        reasons.append(RecommendationReason.LEAST_USED)
    if decided:
        score += PLACES_WEIGHT * left / decided
    reasons.append(RecommendationReason.PLACES_LEFT)
    return Suggestion(
        municipality_number=number,
        score=round(score, 2),
        reasons=reasons,
        places_left=left,
        share_used=share_used,
        unmet_needs=unmet,
    )


def _competence_fits(level: EducationLevel | None, profile: MunicipalityProfile) -> bool:
    """Higher education fits a municipality with a university or college; less than
    upper-secondary fits one with upper-secondary education for adults (the end goals of
    the Integration Act, PUB-20)."""
    if level is EducationLevel.HIGHER or level is EducationLevel.UPPER_SECONDARY:
        return profile.higher_education
    if level is EducationLevel.NONE or level is EducationLevel.PRIMARY:
        return profile.adult_upper_secondary
    return False
