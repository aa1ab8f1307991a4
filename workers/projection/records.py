"""A person's qualification record folded from its own event stream: the same document the
record's workflow keeps (QualificationState), so that it can be read after the workflow's
history is gone. Kept in the case register's person row (case_register.py)."""

from datetime import date

from schemas.events import (
    CaseEvent,
    NorwegianCompletionOverdue,
    NorwegianStartOverdue,
    NorwegianTrainingCompleted,
    NorwegianTrainingExempted,
    NorwegianTrainingStarted,
    ProgrammeDecided,
    ProgrammeEnded,
    ProgrammeLeaveRecorded,
    ProgrammeStarted,
    ProgrammeStartOverdue,
    QualificationDeadlinesMoved,
    QualificationMappingRecorded,
    RightsAssessed,
)
from schemas.qualification import QualificationState


def fold(
    record: QualificationState | None, event: CaseEvent, permit_date: date | None
) -> QualificationState | None:
    """The record after ``event``; None until it has opened (RightsAssessed) with a known
    permit date."""
    data, day = event.data, event.business_date
    if isinstance(data, RightsAssessed):
        if permit_date is None:
            return None
        return QualificationState(
            case_id=data.case_id,
            person_id=event.case_id,
            municipality_number=data.municipality_number,
            case_type=data.case_type,
            rules=data.rules,
            programme_right=data.programme_right,
            norwegian_right=data.norwegian_right,
            permit_date=permit_date,
            settled_on=day,
            programme_start_due=data.programme_start_due,
            norwegian_start_due=data.norwegian_start_due,
            norwegian_completion_due=data.norwegian_completion_due,
            protected=data.protected_identity or data.household_protected,
            last_sequence=event.sequence,
        )
    if record is None:
        return None
    changes: dict[str, object] = {"last_sequence": event.sequence}
    match data:
        case QualificationDeadlinesMoved():
            changes |= {
                "settled_on": day,
                "programme_start_due": data.programme_start_due,
                "norwegian_start_due": data.norwegian_start_due,
                "norwegian_completion_due": data.norwegian_completion_due,
            }
        case QualificationMappingRecorded():
            changes["mapped_on"] = day
        case ProgrammeDecided():
            changes |= {
                "programme_decided_on": day,
                "end_goal": data.end_goal,
                "planned_months": data.planned_months,
            }
        case ProgrammeStarted():
            changes["programme_started_on"] = day
        case ProgrammeLeaveRecorded():
            changes["leaves"] = [*record.leaves, (day, data.until_on)]
        case ProgrammeEnded():
            changes |= {
                "programme_ended_on": day,
                "end_reason": data.reason,
                "main_activity": data.main_activity,
            }
        case NorwegianTrainingStarted():
            changes["norwegian_started_on"] = day
        case NorwegianTrainingCompleted():
            changes["norwegian_completed_on"] = day
        case NorwegianTrainingExempted():
            changes["norwegian_exempted_on"] = day
        case ProgrammeStartOverdue():
            changes["programme_start_overdue"] = True
        case NorwegianStartOverdue():
            changes["norwegian_start_overdue"] = True
        case NorwegianCompletionOverdue():
            changes["norwegian_completion_overdue"] = True
    return record.model_copy(update=changes)
