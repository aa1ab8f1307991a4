"""Bulk import of cases from an existing register (format ``bosetting.case/1``, see
schemas/imports.py and the README).

Every line is validated before anything is imported, and each valid case then goes through
the same CaseService path staff use, as the commands its history implies. Command ids are
derived from the case id and the step, so an import that was interrupted is simply run again:
steps already applied are answered from the workflow and not repeated, and no case is left
half-imported. Historical deadlines raise no alerts (see the settlement-target timers)."""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError
from temporalio.exceptions import WorkflowAlreadyStartedError

from schemas.commands import (
    AcceptAllocation,
    AllocateToMunicipality,
    Command,
    DeclineAllocation,
    GrantPermit,
    PersonSettlement,
    RecordCompetenceMapping,
    RecordExit,
    RecordSettlementApplication,
    RecordSettlementInterview,
    RegisterSettlement,
    WithdrawAllocation,
)
from schemas.errors import CaseNotFound, CommandRejected
from schemas.imports import ImportedCase
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


@dataclass
class ImportResult:
    imported: int = 0
    persons: int = 0
    already_closed: int = 0
    failed: list[LineProblem] = field(default_factory=list)


def parse_lines(lines: Iterable[str], municipalities: MunicipalityRegister) -> ParsedImport:
    parsed = ParsedImport()
    seen: dict[str, int] = {}
    persons: dict[str, int] = {}
    households: dict[tuple[object, ...], int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case = ImportedCase.model_validate(json.loads(line))
            plan = to_plan(case)
        except json.JSONDecodeError as exc:
            parsed.rejected.append(LineProblem(number, f"not JSON: {exc.msg}"))
            continue
        except ValidationError as exc:
            parsed.rejected.append(LineProblem(number, describe(exc)))
            continue
        unknown = _unknown_municipality(case, municipalities)
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
    case: ImportedCase,
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


def _unknown_municipality(case: ImportedCase, municipalities: MunicipalityRegister) -> str | None:
    for i, allocation in enumerate(case.allocations):
        try:
            municipalities.get(allocation.municipality_number, allocation.allocated_on)
        except UnknownMunicipality as exc:
            return f"allocations.{i}: {exc}"
    return None


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
