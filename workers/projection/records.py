"""A person's qualification record folded from its own event stream: the same document the
record's workflow keeps (QualificationState), by the same rule (schemas/records.py), so that it
can be read after the workflow's history is gone. Kept in the case register's person row."""

from datetime import date

from schemas.events import CaseEvent, RightsAssessed
from schemas.qualification import QualificationState
from schemas.records import after


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
    return after(record, data, day).model_copy(update={"last_sequence": event.sequence})
