"""Closed vocabularies of the settlement domain (see the glossary in README)."""

from enum import StrEnum


class CaseStage(StrEnum):
    """Where a household case stands on its way from permit to settlement."""

    PERMIT_GRANTED = "permit_granted"
    """Residence or entry permit granted (t0); settlement interview pending."""
    SETTLEMENT_READY = "settlement_ready"
    """Settlement interview held (bosettingssamtale); waiting for a municipality."""
    ALLOCATED = "allocated"
    """On a municipality's allocation list (fordelingsliste); awaiting its answer."""
    ACCEPTED = "accepted"
    """The municipality accepted ("søkt ut"); awaiting the move."""
    SETTLED = "settled"
    """Every member has a settlement date (bosettingsdato)."""
    EXITED = "exited"
    """The case left the path without (full) settlement; see ExitReason."""


class CaseType(StrEnum):
    """How the household came to be settled; the steering parameters are scoped by it."""

    RECEPTION = "reception"
    """Asylum-based refugee living in a reception centre (asylmottak)."""
    PRIVATE_ADDRESS = "private_address"
    """Asylum-based refugee living privately (privat bopel)."""
    RESETTLEMENT = "resettlement"
    """Resettlement (quota) refugee selected abroad (overføringsflyktning)."""


class Category(StrEnum):
    """The statistical category of Table 3-1-1 in the directorate's annual report."""

    UNACCOMPANIED_MINOR = "unaccompanied_minor"
    """Enslig mindreårig: a minor settled without a parent."""
    FAMILY_WITH_CHILDREN = "family_with_children"
    """Barnefamilie: adults and children of a household with children under 18."""
    OTHER_ADULT = "other_adult"
    """Andre voksne: adults not in a family with children."""


class DeclineReason(StrEnum):
    """Why a municipality declined an allocation. Codes, never free text: events leave the
    register and free text invites personal details."""

    NO_SUITABLE_HOUSING = "no_suitable_housing"
    NO_CAPACITY = "no_capacity"
    SERVICES_UNAVAILABLE = "services_unavailable"
    OTHER = "other"


class DeadlineState(StrEnum):
    """Where a case stands against its settlement target (3 or 6 months from the permit)."""

    ON_TRACK = "on_track"
    APPROACHING = "approaching"
    """Inside the warning window before the target date."""
    BREACHED = "breached"
    """The target date passed with members still unsettled."""
    MET = "met"
    """Every member settled by the target date."""


class WithdrawalReason(StrEnum):
    """Why the directorate withdrew an allocation ("trukket", domain.md §2.2 A7w)."""

    TRAVEL_RESTRICTIONS = "travel_restrictions"
    """As in March 2020, when every resettlement allocation was withdrawn."""
    BETTER_MATCH = "better_match"
    MUNICIPALITY_REQUEST = "municipality_request"
    OTHER = "other"


class ExitReason(StrEnum):
    """How a case leaves the path without settlement by agreement (issue 3, exits)."""

    WITHDRAWN_BEFORE_DEPARTURE = "withdrawn_before_departure"
    REFUSED_OFFER = "refused_offer"
    PERMIT_REVOKED = "permit_revoked"
    MOVED_ABROAD = "moved_abroad"
    SETTLED_ON_OWN = "settled_on_own"
    DECEASED = "deceased"
    NO_APPLICATION = "no_application"
    """Private address: no settlement application within 6 months of the permit (A2p); the
    case is out of the directorate's scope."""


class SettlingAuthority(StrEnum):
    """Who settles the household (domain.md §2.4): the directorate (IMDi), or child welfare
    (Bufetat) for unaccompanied minors under 15."""

    IMDI = "imdi"
    BUFETAT = "bufetat"


class MemberJoinReason(StrEnum):
    """Why a person joins a household case after its permit (domain.md §2.2 family rule, §2.5)."""

    LATE_PERMIT = "late_permit"
    """A member whose own permit was granted after the household's."""
    BORN_WHILE_WAITING = "born_while_waiting"
    FAMILY_REUNIFICATION = "family_reunification"
    """Joins a reference person still in reception: settled with public help and counted."""


class RecommendationReason(StrEnum):
    """Why an integration reception centre recommends a municipality (A6-IM), and why a
    caseworker or the suggestion list matches one (A6 "match reasons"). Codes only."""

    COMPETENCE = "competence"
    """Competence fits the local labour market or education offer."""
    CLOSE_FAMILY = "close_family"
    SERVICES = "services"
    """The household's needs are met by the municipality's services."""
    PLACES_LEFT = "places_left"
    LEAST_USED = "least_used"
    """Near year end: the municipality has used the smallest share of its decided places."""
    RECOMMENDED = "recommended"
    """Follows the integration reception centre's recommendation."""
    RESETTLEMENT_EXPERIENCE = "resettlement_experience"
    """Resettlement refugees usually go where the municipality knows the group (PUB-11)."""
    OTHER = "other"


class EducationLevel(StrEnum):
    """Highest completed education, from competence mapping (Kompass)."""

    NONE = "none"
    PRIMARY = "primary"
    UPPER_SECONDARY = "upper_secondary"
    HIGHER = "higher"


class ServiceNeed(StrEnum):
    """Coarse codes of services a household needs (PUB-1: needs and services). Kept in the
    case register only; never on an event."""

    ACCESSIBLE_HOUSING = "accessible_housing"
    SPECIALIST_HEALTH = "specialist_health"
    LARGE_DWELLING = "large_dwelling"
    CHILD_WELFARE = "child_welfare"


class CorrectableStep(StrEnum):
    """Steps whose business date can be corrected with CorrectStepDate. The permit date and
    settlement dates have commands of their own: the figures are made of them."""

    SETTLEMENT_APPLICATION = "settlement_application"
    COMPETENCE_MAPPING = "competence_mapping"
    SETTLEMENT_INTERVIEW = "settlement_interview"
    ALLOCATION = "allocation"
    ACCEPTANCE = "acceptance"


class CorrectionReason(StrEnum):
    REGISTRATION_ERROR = "registration_error"
    LATE_INFORMATION = "late_information"
    OTHER = "other"


class Role(StrEnum):
    """Who a token says its holder is (the claim ``role``); each step declares which may
    send it (workflows/steps.py)."""

    RECEPTION = "reception"
    """Reception-centre staff, for the households of their centre."""
    CASEWORKER = "caseworker"
    """Directorate caseworker (IMDi): every case."""
    MUNICIPALITY = "municipality"
    """A municipality, for the households allocated to it."""
    OPERATIONS = "operations"
    """Operations: figures, status and health; no personal data."""
    ADMINISTRATOR = "administrator"
    """Everything."""
