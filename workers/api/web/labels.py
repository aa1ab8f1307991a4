"""What the pages call things: every command field, code value, step, stage and event, as an
English message id that the catalogues translate (locale/, Norwegian bokmål first). A unit
test holds every field and code of every command in the step table to a label here and every
label to a Norwegian translation."""

from enum import Enum


def N_(message: str) -> str:
    """Marks a message for the catalogue; translated where it is shown."""
    return message


FIELDS: dict[str, str] = {
    "accepted_on": N_("Accepted on"),
    "allocated_on": N_("Allocated on"),
    "applied_on": N_("Applied on"),
    "arrival_on": N_("Expected arrival"),
    "arrived_on": N_("Arrived on"),
    "birth_date": N_("Date of birth"),
    "booked_on": N_("Booked on"),
    "case_id": N_("Case reference"),
    "case_type": N_("Case type"),
    "close_family_municipality": N_("Municipality of close family"),
    "completed_on": N_("Completed on"),
    "decided": N_("Places decided by the council"),
    "decided_on": N_("Decided on"),
    "decided_unaccompanied_minors": N_("Places decided for unaccompanied minors"),
    "requested": N_("Places requested"),
    "requested_unaccompanied_minors": N_("Places requested for unaccompanied minors"),
    "adjusted": N_("Adjusted request"),
    "declined_on": N_("Declined on"),
    "dossier": N_("Selected on written dossier, without an interview"),
    "education_level": N_("Education level"),
    "end_goal": N_("End goal"),
    "ended_on": N_("Ended on"),
    "exempted_on": N_("Exempted on"),
    "exited_on": N_("Exited on"),
    "from_on": N_("From"),
    "held_on": N_("Interview held on"),
    "main_activity": N_("Main activity afterwards"),
    "mapped_on": N_("Mapped on"),
    "municipality_number": N_("Municipality"),
    "on": N_("Correct date"),
    "permit_date": N_("Permit date"),
    "person": N_("New member"),
    "person_id": N_("Person reference"),
    "persons": N_("Household members"),
    "placed_in_reception": N_("Placed in a reception centre on arrival"),
    "planned_months": N_("Planned length in months"),
    "planned_on": N_("Planned settlement date"),
    "protected_identity": N_("Protected identity"),
    "reason": N_("Reason"),
    "reasons": N_("Reasons"),
    "reception_centre": N_("Reception centre"),
    "recommended_on": N_("Recommended on"),
    "registered_on": N_("Registered on"),
    "service_needs": N_("Service needs"),
    "settled_on": N_("Settled on"),
    "settlements": N_("Settlement date per person"),
    "started_on": N_("Started on"),
    "step": N_("Step to correct"),
    "until_on": N_("Until"),
    "valid_until": N_("Valid until"),
    "withdrawn_on": N_("Withdrawn on"),
}

CODES: dict[str, dict[str, str]] = {
    "CaseType": {
        "reception": N_("Resident of a reception centre"),
        "private_address": N_("Living at a private address"),
        "resettlement": N_("Resettlement refugee"),
    },
    "CaseStage": {
        "permit_granted": N_("Permit granted"),
        "settlement_ready": N_("Ready for settlement"),
        "allocated": N_("Allocated to a municipality"),
        "accepted": N_("Accepted by the municipality"),
        "settled": N_("Settled"),
        "exited": N_("Left the directorate's scope"),
    },
    "DeadlineState": {
        "on_track": N_("On track"),
        "approaching": N_("Target approaching"),
        "breached": N_("Target passed"),
        "met": N_("Target met"),
    },
    "Category": {
        "unaccompanied_minor": N_("Unaccompanied minor"),
        "family_with_children": N_("Family with children"),
        "other_adult": N_("Other adults"),
    },
    "Role": {
        "reception": N_("Reception-centre staff"),
        "caseworker": N_("Directorate caseworker"),
        "municipality": N_("Municipality"),
        "operations": N_("Operations"),
        "administrator": N_("Administrator"),
    },
    "CorrectableStep": {
        "settlement_application": N_("Settlement application"),
        "competence_mapping": N_("Competence mapping"),
        "settlement_interview": N_("Settlement interview"),
        "allocation": N_("Allocation"),
        "acceptance": N_("Acceptance"),
    },
    "CorrectionReason": {
        "registration_error": N_("Registration error"),
        "late_information": N_("Information came late"),
        "other": N_("Other"),
    },
    "DeclineReason": {
        "no_suitable_housing": N_("No suitable housing"),
        "no_capacity": N_("No capacity"),
        "services_unavailable": N_("Needed services unavailable"),
        "other": N_("Other"),
    },
    "EducationLevel": {
        "none": N_("No schooling"),
        "primary": N_("Primary school"),
        "upper_secondary": N_("Upper secondary school"),
        "higher": N_("Higher education"),
    },
    "EndGoal": {
        "work": N_("Work"),
        "higher_education": N_("Higher education"),
        "upper_secondary": N_("Upper secondary school"),
        "work_or_education": N_("Work or education"),
    },
    "ExitReason": {
        "withdrawn_before_departure": N_("Withdrawn before departure"),
        "refused_offer": N_("Refused the offer"),
        "permit_revoked": N_("Permit revoked"),
        "moved_abroad": N_("Moved abroad"),
        "settled_on_own": N_("Settled on their own"),
        "deceased": N_("Deceased"),
        "no_application": N_("No settlement application"),
    },
    "MainActivity": {
        "work": N_("Work"),
        "education": N_("Education"),
        "work_and_education": N_("Work and education"),
        "other": N_("Other"),
    },
    "MemberJoinReason": {
        "late_permit": N_("Permit granted later"),
        "born_while_waiting": N_("Born while waiting"),
        "family_reunification": N_("Family reunification"),
    },
    "ProgrammeEndReason": {
        "goal_reached": N_("Goal reached"),
        "time_used_up": N_("Time used up"),
        "stopped": N_("Stopped"),
        "moved": N_("Moved"),
        "other": N_("Other"),
    },
    "RecommendationReason": {
        "competence": N_("Competence"),
        "close_family": N_("Close family"),
        "services": N_("Services"),
        "places_left": N_("Places left"),
        "least_used": N_("Fewest places used"),
        "recommended": N_("Recommended by the centre"),
        "resettlement_experience": N_("Experience with resettlement"),
        "other": N_("Other"),
    },
    "ServiceNeed": {
        "accessible_housing": N_("Accessible housing"),
        "specialist_health": N_("Specialist health services"),
        "large_dwelling": N_("Large dwelling"),
        "child_welfare": N_("Child welfare"),
    },
    "WithdrawalReason": {
        "travel_restrictions": N_("Travel restrictions"),
        "better_match": N_("A better match"),
        "municipality_request": N_("The municipality asked"),
        "other": N_("Other"),
    },
}

STEPS: dict[str, str] = {
    "record_settlement_application": N_("Register the settlement application"),
    "record_competence_mapping": N_("Register competence mapping"),
    "record_settlement_interview": N_("Register the settlement interview"),
    "record_recommendation": N_("Recommend a municipality"),
    "add_household_member": N_("Add a household member"),
    "allocate_to_municipality": N_("Allocate to a municipality"),
    "accept_allocation": N_("Accept the household"),
    "decline_allocation": N_("Decline the household"),
    "withdraw_allocation": N_("Withdraw the allocation"),
    "plan_settlement": N_("Plan the settlement date"),
    "book_travel": N_("Register booked travel"),
    "record_arrival": N_("Register arrival"),
    "extend_entry_permit": N_("Extend the entry permit"),
    "register_settlement": N_("Register settlement"),
    "record_exit": N_("Register that the case ends"),
    "correct_permit_date": N_("Correct the permit date"),
    "correct_settlement_date": N_("Correct a settlement date"),
    "correct_step_date": N_("Correct a step's date"),
    "record_mapping": N_("Register competence mapping"),
    "decide_programme": N_("Decide the introduction programme"),
    "start_programme": N_("Register programme start"),
    "record_leave": N_("Register approved leave"),
    "end_programme": N_("Register programme end"),
    "start_norwegian_training": N_("Register start of Norwegian training"),
    "complete_norwegian_training": N_("Register completed Norwegian training"),
    "exempt_norwegian_training": N_("Register exemption from Norwegian training"),
}

EVENTS: dict[str, str] = {
    "ResidencePermitGranted": N_("Permit granted"),
    "SettlementApplicationReceived": N_("Settlement application received"),
    "SettlementApplicationLapsed": N_("Settlement application deadline passed"),
    "CompetenceMappingRecorded": N_("Competence mapping registered"),
    "SettlementInterviewHeld": N_("Settlement interview held"),
    "MunicipalityRecommended": N_("Municipality recommended"),
    "HouseholdMemberAdded": N_("Household member added"),
    "MunicipalityAllocated": N_("Allocated to a municipality"),
    "MunicipalityReplyOverdue": N_("The municipality's reply is overdue"),
    "AllocationAccepted": N_("Accepted by the municipality"),
    "AllocationDeclined": N_("Declined by the municipality"),
    "AllocationWithdrawn": N_("Allocation withdrawn"),
    "SettlementPlanned": N_("Settlement planned"),
    "PlannedSettlementDatePassed": N_("Planned settlement date passed"),
    "TravelBooked": N_("Travel booked"),
    "ResettlementArrived": N_("Arrived in Norway"),
    "EntryPermitExtended": N_("Entry permit extended"),
    "EntryPermitLapsed": N_("Entry permit lapsed"),
    "PersonSettled": N_("Person settled"),
    "CaseExited": N_("Case ended"),
    "PermitDateCorrected": N_("Permit date corrected"),
    "SettlementDateCorrected": N_("Settlement date corrected"),
    "StepDateCorrected": N_("Step date corrected"),
    "SettlementTargetApproaching": N_("Settlement target approaching"),
    "SettlementTargetBreached": N_("Settlement target passed"),
    "RightsAssessed": N_("Rights assessed"),
    "QualificationMappingRecorded": N_("Competence mapping registered"),
    "ProgrammeDecided": N_("Introduction programme decided"),
    "ProgrammeStarted": N_("Introduction programme started"),
    "ProgrammeLeaveRecorded": N_("Leave registered"),
    "ProgrammeEnded": N_("Introduction programme ended"),
    "ProgrammeStartOverdue": N_("Programme start overdue"),
    "NorwegianTrainingStarted": N_("Norwegian training started"),
    "NorwegianTrainingCompleted": N_("Norwegian training completed"),
    "NorwegianTrainingExempted": N_("Exempted from Norwegian training"),
    "NorwegianStartOverdue": N_("Start of Norwegian training overdue"),
    "NorwegianCompletionOverdue": N_("Completion of Norwegian training overdue"),
    "QualificationDeadlinesMoved": N_("Deadlines moved"),
    "PlacesRequested": N_("Places requested"),
    "PlacesRequestAdjusted": N_("Request adjusted"),
    "PlacesDecided": N_("Places decided by the council"),
    "PlacesTaken": N_("Places used and held changed"),
}


def code(value: Enum | str | None, kind: str) -> str:
    """A code's label (the message id), or the code itself if it has none."""
    if value is None:
        return ""
    raw = value.value if isinstance(value, Enum) else value
    return CODES.get(kind, {}).get(str(raw), str(raw))


MEASURES: dict[str, str] = {
    "K1": N_("Refugees settled within 6 months"),
    "K2": N_("Refugees settled within 12 months"),
    "SP13.1": N_("Resettlement refugees settled within 6 months of the entry permit"),
    "SP13.2": N_("Adults settled from reception within 6 months"),
    "SP13.3": N_("Unaccompanied minors settled within 3 months"),
    "SP13.3-IMDi": N_("Unaccompanied minors 15-17 (IMDi) settled within 3 months"),
    "SP13.3-Bufetat": N_("Unaccompanied minors under 15 (Bufetat) settled within 3 months"),
    "SP13.4": N_("Families with children settled from reception within 3 months"),
    "SP13.4-persons": N_(
        "Members of families with children settled from reception within 3 months"
    ),
    "SP6-resettlement": N_("Resettlement refugees settled with competence mapping"),
    "SP6-reception": N_("Refugees settled from reception with competence mapping"),
    "K13": N_("Introduction programme started within 3 months"),
    "SP4": N_("Norwegian training started within 3 months of the right"),
    "SP4-6m": N_("Norwegian training started within 6 months of the right"),
    "K15": N_("Direct transition to work or education on leaving the programme"),
}
"""The steering parameters and other figures (workers/figures/definitions.py), by id."""

ERRORS: dict[str, str] = {
    "missing": N_("Fill this in."),
    "date_from_datetime_parsing": N_("Write a date."),
    "date_parsing": N_("Write a date."),
    "date_type": N_("Write a date."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "string_pattern_mismatch": N_("The format is not right."),
    "string_too_short": N_("Too short."),
    "string_too_long": N_("Too long."),
    "int_parsing": N_("Write a whole number."),
    "int_type": N_("Write a whole number."),
    "greater_than_equal": N_("The number is too small."),
    "less_than_equal": N_("The number is too large."),
    "too_short": N_("Fill in at least one."),
    "too_long": N_("Too many."),
    "out_of_order": N_("This step cannot be taken at the case's stage now."),
    "unavailable": N_("The case service did not answer. Try again with the same form."),
    "idempotency_key_reused": N_("The form was sent before. Reload the page."),
}
"""The API's validation errors by type: the reader sees the rule in their language."""

RULES: list[tuple[str, str]] = [
    (r"^may not be in the future$", N_("may not be in the future")),
    (
        r"^may not be before (?P<what>[a-z_ ]+) \((?P<day>\d{4}-\d\d-\d\d)\)$",
        N_("may not be before %(what)s (%(day)s)"),
    ),
    (
        r"^may not be after (?P<what>[a-z_ ]+) \((?P<day>\d{4}-\d\d-\d\d)\)$",
        N_("may not be after %(what)s (%(day)s)"),
    ),
    (r"^a person_id already has a settlement date$", N_("a person already has a settlement date")),
    (r"^is already a member of this household$", N_("is already a member of this household")),
    (
        r"^is not a municipality on (?P<day>\d{4}-\d\d-\d\d)$",
        N_("is not a municipality on %(day)s"),
    ),
]
"""Business rules (workflows/rules.py) whose message the reader sees translated; a rule
not listed is shown as the API words it."""
