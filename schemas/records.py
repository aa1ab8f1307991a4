"""What each event of an adult's qualification record does to the record: one definition, used
by the record's workflow as it takes its steps and by the case register as it folds the
record's stream (so that the record can be read after the workflow's history is gone)."""

from datetime import date

from schemas.events import (
    EventData,
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
)
from schemas.qualification import QualificationState


def after(record: QualificationState, data: EventData, day: date) -> QualificationState:
    """The record once ``data``, on business date ``day``, has happened to it (any event but
    the opening RightsAssessed, from which the record is made)."""
    changes: dict[str, object] = {}
    match data:
        case QualificationDeadlinesMoved():
            changes = {
                "settled_on": day,
                "programme_start_due": data.programme_start_due,
                "norwegian_start_due": data.norwegian_start_due,
                "norwegian_completion_due": data.norwegian_completion_due,
            }
        case QualificationMappingRecorded():
            changes = {"mapped_on": day}
        case ProgrammeDecided():
            changes = {
                "programme_decided_on": day,
                "end_goal": data.end_goal,
                "planned_months": data.planned_months,
            }
        case ProgrammeStarted():
            changes = {"programme_started_on": day}
        case ProgrammeLeaveRecorded():
            changes = {"leaves": [*record.leaves, (day, data.until_on)]}
        case ProgrammeEnded():
            changes = {
                "programme_ended_on": day,
                "end_reason": data.reason,
                "main_activity": data.main_activity,
            }
        case NorwegianTrainingStarted():
            changes = {"norwegian_started_on": day}
        case NorwegianTrainingCompleted():
            changes = {"norwegian_completed_on": day}
        case NorwegianTrainingExempted():
            changes = {"norwegian_exempted_on": day}
        case ProgrammeStartOverdue():
            changes = {"programme_start_overdue": True}
        case NorwegianStartOverdue():
            changes = {"norwegian_start_overdue": True}
        case NorwegianCompletionOverdue():
            changes = {"norwegian_completion_overdue": True}
    return record.model_copy(update=changes)
