"""Bulk import of cases from an existing register (formats ``bosetting.case/1`` and
``bosetting.case/2`` with ``bosetting.places/2``, see schemas/imports.py and the README).

Every line is validated before anything is imported, and each valid case then goes through
the same CaseService path staff use, as the commands its history implies. Command ids are
derived from the case id and the step, so an import that was interrupted is simply run again:
steps already applied are answered from the workflow and not repeated, and no case is left
half-imported. Historical deadlines raise no alerts (see the settlement-target timers)."""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date

from pydantic import ValidationError
from temporalio.exceptions import WorkflowAlreadyStartedError

from schemas.commands import (
    AcceptAllocation,
    AddHouseholdMember,
    AllocateToMunicipality,
    BookTravel,
    Command,
    CorrectPermitDate,
    CorrectSettlementDate,
    CorrectStepDate,
    DeclineAllocation,
    ExtendEntryPermit,
    GrantPermit,
    PersonSettlement,
    PlanSettlement,
    RecordArrival,
    RecordCompetenceMapping,
    RecordExit,
    RecordRecommendation,
    RecordSettlementApplication,
    RecordSettlementInterview,
    RegisterSettlement,
    WithdrawAllocation,
)
from schemas.errors import CaseNotFound, CommandRejected
from schemas.imports import (
    IMPORT_FORMAT,
    IMPORT_FORMAT_2,
    PLACES_FORMAT_2,
    AcceptanceStep,
    AllocationStep,
    ApplicationStep,
    ArrivalStep,
    CaseStep,
    DeclineStep,
    EntryPermitStep,
    ExitStep,
    ImportedCase,
    ImportedCase2,
    ImportedPlaces2,
    InterviewStep,
    MappingStep,
    MemberStep,
    PermitCorrectionStep,
    PlannedStep,
    RecommendationStep,
    SettlementCorrectionStep,
    SettlementStep,
    StepCorrectionStep,
    TravelStep,
    WithdrawalStep,
)
from schemas.places import PlacesDecisionNumbers, RecordPlacesDecision
from workers.allocation.municipalities import MunicipalityRegister, UnknownMunicipality
from workers.platform.fanout import for_each
from workers.platform.validation import describe
from workers.services.cases import CaseService
from workers.services.plans import HouseholdPlan, drive_household


@dataclass(frozen=True)
class LineProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ParsedImport:
    plans: list[tuple[int, HouseholdPlan]] = field(default_factory=list)
    rejected: list[LineProblem] = field(default_factory=list)
    held: list[LineProblem] = field(default_factory=list)
    """Lines that look like a household or person already on an earlier line: not imported,
    reported with both line numbers for someone to review (never imported twice)."""
    decisions: list[tuple[int, str, int, RecordPlacesDecision]] = field(default_factory=list)
    """Council decisions (format 2): line, municipality, year and the decision, in file order."""


@dataclass
class ImportResult:
    imported: int = 0
    persons: int = 0
    already_closed: int = 0
    failed: list[LineProblem] = field(default_factory=list)


FORMATS = (IMPORT_FORMAT, IMPORT_FORMAT_2, PLACES_FORMAT_2)


def parse_lines(lines: Iterable[str], municipalities: MunicipalityRegister) -> ParsedImport:
    parsed = ParsedImport()
    seen: dict[str, int] = {}
    persons: dict[str, int] = {}
    households: dict[tuple[object, ...], int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            kind = data.get("format") if isinstance(data, dict) else None
            if kind == PLACES_FORMAT_2:
                decision = ImportedPlaces2.model_validate(data)
                problem = _unknown_places_municipality(decision, municipalities)
                if problem:
                    parsed.rejected.append(LineProblem(number, problem))
                else:
                    parsed.decisions.append((number, *to_decision(decision)))
                continue
            case: ImportedCase | ImportedCase2
            if kind == IMPORT_FORMAT_2:
                case = ImportedCase2.model_validate(data)
                plan = to_plan_2(case)
            elif kind == IMPORT_FORMAT:
                case = ImportedCase.model_validate(data)
                plan = to_plan(case)
            else:
                parsed.rejected.append(
                    LineProblem(number, f"format: must be one of {', '.join(FORMATS)}")
                )
                continue
        except json.JSONDecodeError as exc:
            parsed.rejected.append(LineProblem(number, f"not JSON: {exc.msg}"))
            continue
        except ValidationError as exc:
            parsed.rejected.append(LineProblem(number, describe(exc)))
            continue
        except StepRefused as exc:
            parsed.rejected.append(LineProblem(number, str(exc)))
            continue
        unknown = _unknown_municipality(plan, municipalities)
        if unknown:
            parsed.rejected.append(LineProblem(number, unknown))
            continue
        if case.case_id in seen:
            parsed.rejected.append(
                LineProblem(number, f"case_id: already on line {seen[case.case_id]}")
            )
            continue
        duplicate = _duplicate(case, number, persons, households)
        if duplicate:
            parsed.held.append(LineProblem(number, duplicate))
            continue
        seen[case.case_id] = number
        parsed.plans.append((number, plan))
    return parsed


def _duplicate(
    case: ImportedCase | ImportedCase2,
    number: int,
    persons: dict[str, int],
    households: dict[tuple[object, ...], int],
) -> str | None:
    """Why this case looks like one on an earlier line, naming that line (never the values):
    a person already in another household, or a household with the same members' birth
    dates and permit date. Otherwise remember it and say nothing."""
    for i, person in enumerate(case.persons):
        if person.person_id in persons:
            return (
                f"persons.{i}.person_id: the same person as in the case on line "
                f"{persons[person.person_id]}; held for review, not imported"
            )
    household = (case.permit_date, *sorted(p.birth_date for p in case.persons))
    if household in households:
        return (
            f"persons: the same members' birth dates and permit date as the household on line "
            f"{households[household]}; held for review, not imported"
        )
    for person in case.persons:
        persons[person.person_id] = number
    households[household] = number
    return None


def _unknown_municipality(plan: HouseholdPlan, municipalities: MunicipalityRegister) -> str | None:
    for i, allocation in enumerate(plan.allocations):
        try:
            municipalities.get(allocation.municipality_number, allocation.allocated_on)
        except UnknownMunicipality as exc:
            return f"allocations.{i}: {exc}"
    return None


def _unknown_places_municipality(
    decision: ImportedPlaces2, municipalities: MunicipalityRegister
) -> str | None:
    try:
        municipalities.get(decision.municipality_number, date(decision.year, 1, 1))
    except UnknownMunicipality as exc:
        return str(exc)
    return None


def to_decision(line: ImportedPlaces2) -> tuple[str, int, RecordPlacesDecision]:
    """A council's decision as the ledger takes it; its command id is its registration
    moment, so an import run again records it once."""
    moment = line.registered_at.astimezone(UTC).isoformat()
    return (
        line.municipality_number,
        line.year,
        RecordPlacesDecision(
            command_id=f"import/places/{line.municipality_number}/{line.year}/{moment}",
            registered_at=line.registered_at,
            **line.model_dump(include=set(PlacesDecisionNumbers.model_fields)),
        ),
    )


class StepRefused(ValueError):
    """A step of a format-2 line that its command's own rules refuse (named by its index)."""


def to_plan_2(case: ImportedCase2) -> HouseholdPlan:
    """The commands of a format-2 line, each carrying when the old register registered it."""
    cid = case.case_id
    steps: list[Command] = []
    for i, step in enumerate(case.steps):
        try:
            steps.append(_command(step, f"import/{cid}/{i}-{step.step}"))
        except ValidationError as exc:
            raise StepRefused(f"steps.{i}: {describe(exc)}") from None
    return HouseholdPlan(
        grant=GrantPermit(
            command_id=f"import/{cid}/permit",
            case_id=cid,
            case_type=case.case_type,
            permit_date=case.permit_date,
            persons=case.persons,
            reception_centre=case.reception_centre,
            registered_at=case.registered_at,
        ),
        steps=steps,
    )


def _command(step: CaseStep, command_id: str) -> Command:
    common = {"command_id": command_id, "registered_at": step.registered_at}
    match step:
        case ApplicationStep(on=on):
            return RecordSettlementApplication(**common, applied_on=on)
        case MappingStep(on=on):
            return RecordCompetenceMapping(**common, mapped_on=on)
        case InterviewStep(on=on):
            return RecordSettlementInterview(**common, held_on=on)
        case MemberStep(on=on, person=person, reason=reason):
            return AddHouseholdMember(**common, person=person, permit_date=on, reason=reason)
        case RecommendationStep(on=on, municipality_number=number, reason=reason):
            return RecordRecommendation(
                **common, municipality_number=number, recommended_on=on, reason=reason
            )
        case PlannedStep(on=on, planned_on=planned):
            return PlanSettlement(**common, planned_on=planned, registered_on=on)
        case EntryPermitStep(on=on, valid_until=until):
            return ExtendEntryPermit(**common, decided_on=on, valid_until=until)
        case AllocationStep(on=on, municipality_number=number):
            return AllocateToMunicipality(**common, municipality_number=number, allocated_on=on)
        case AcceptanceStep(on=on):
            return AcceptAllocation(**common, accepted_on=on)
        case DeclineStep(on=on, reason=reason):
            return DeclineAllocation(**common, declined_on=on, reason=reason)
        case WithdrawalStep(on=on, reason=reason):
            return WithdrawAllocation(**common, withdrawn_on=on, reason=reason)
        case TravelStep(on=on, arrival_on=arrival):
            return BookTravel(**common, booked_on=on, arrival_on=arrival)
        case ArrivalStep(on=on, placed_in_reception=placed):
            return RecordArrival(**common, arrived_on=on, placed_in_reception=placed)
        case SettlementStep(on=on, person_ids=ids):
            return RegisterSettlement(
                **common, settlements=[PersonSettlement(person_id=p, settled_on=on) for p in ids]
            )
        case PermitCorrectionStep(on=on, reason=reason):
            return CorrectPermitDate(**common, permit_date=on, reason=reason)
        case SettlementCorrectionStep(on=on, person_id=person, reason=reason):
            return CorrectSettlementDate(**common, person_id=person, settled_on=on, reason=reason)
        case StepCorrectionStep(on=on, corrected=corrected, reason=reason):
            return CorrectStepDate(**common, step=corrected, on=on, reason=reason)
        case ExitStep(on=on, reason=reason):
            return RecordExit(**common, exited_on=on, reason=reason)
    raise AssertionError(f"unknown step {step.step}")


def to_plan(case: ImportedCase) -> HouseholdPlan:
    """The commands that take a new case to where the imported history says it is."""
    cid = case.case_id

    def command_id(step: str) -> str:
        return f"import/{cid}/{step}"

    steps: list[Command] = []
    if case.applied_on:
        steps.append(
            RecordSettlementApplication(
                command_id=command_id("application"), applied_on=case.applied_on
            )
        )
    if case.competence_mapped_on:
        steps.append(
            RecordCompetenceMapping(
                command_id=command_id("mapping"), mapped_on=case.competence_mapped_on
            )
        )
    if case.interview_held_on:
        steps.append(
            RecordSettlementInterview(
                command_id=command_id("interview"), held_on=case.interview_held_on
            )
        )
    for i, a in enumerate(case.allocations):
        steps.append(
            AllocateToMunicipality(
                command_id=command_id(f"allocate-{i}"),
                municipality_number=a.municipality_number,
                allocated_on=a.allocated_on,
            )
        )
        if a.outcome == "declined" and a.answered_on and a.decline_reason:
            steps.append(
                DeclineAllocation(
                    command_id=command_id(f"decline-{i}"),
                    declined_on=a.answered_on,
                    reason=a.decline_reason,
                )
            )
        elif a.outcome == "withdrawn" and a.answered_on and a.withdrawal_reason:
            steps.append(
                WithdrawAllocation(
                    command_id=command_id(f"withdraw-{i}"),
                    withdrawn_on=a.answered_on,
                    reason=a.withdrawal_reason,
                )
            )
        elif a.outcome == "accepted" and a.answered_on:
            steps.append(
                AcceptAllocation(command_id=command_id(f"accept-{i}"), accepted_on=a.answered_on)
            )
    if case.settlements:
        steps.append(
            RegisterSettlement(
                command_id=command_id("settle"),
                settlements=[
                    PersonSettlement(person_id=s.person_id, settled_on=s.settled_on)
                    for s in case.settlements
                ],
            )
        )
    if case.exit:
        steps.append(
            RecordExit(
                command_id=command_id("exit"),
                exited_on=case.exit.exited_on,
                reason=case.exit.reason,
            )
        )
    return HouseholdPlan(
        grant=GrantPermit(
            command_id=command_id("permit"),
            case_id=cid,
            case_type=case.case_type,
            permit_date=case.permit_date,
            persons=case.persons,
            reception_centre=case.reception_centre,
        ),
        steps=steps,
    )


async def import_plans(
    service: CaseService,
    plans: list[tuple[int, HouseholdPlan]],
    on_done: Callable[[], None] = lambda: None,
    concurrency: int = 16,
) -> ImportResult:
    result = ImportResult()

    async def one(numbered: tuple[int, HouseholdPlan]) -> None:
        line, plan = numbered
        try:
            await drive_household(service, plan)
            result.imported += 1
            result.persons += len(plan.persons)
        except WorkflowAlreadyStartedError:
            # Imported before and closed since: nothing to do.
            result.already_closed += 1
        except (CommandRejected, CaseNotFound) as exc:
            result.failed.append(LineProblem(line, f"{plan.case_id}: {exc}"))

    await for_each(plans, one, concurrency=concurrency, on_done=on_done)
    result.failed.sort(key=lambda p: p.line)
    return result
