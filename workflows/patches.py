"""Every patch id the workflows branch on (``workflow.patched``), and every shipped version
of each workflow with the patches it brought. A history of each version is committed in
tests/replay/histories/ (``<workflow>_v<n>.json``) and replays on today's code; the replay
tests derive the list of histories from ``VERSIONS`` and check that each version's history
records its patches, so a patch shipped without a history (or a history without its
version) fails there. Patch ids never change: running workflows carry them."""

SETTLEMENT_TARGET_TIMERS = "settlement-target-timers"
"""Patch id: cases started before durable settlement-target timers existed have none."""
PLACES_LEDGER = "places-ledger"
"""Patch id: cases allocated before the places ledger existed reserve no places."""
REPLY_WINDOW = "reply-window"
"""Patch id: allocations made before reply windows existed have none."""
CORRECTION_WINDOW = "correction-window"
"""Patch id: cases settled before the correction window existed closed at settlement."""
CONTINUE_AS_NEW = "continue-as-new"
"""Patch id: cases opened before the case could continue as new watch their target inline."""
QUALIFICATION = "qualification"
"""Patch id: adults settled before qualification records existed have none."""
TRACKS = "tracks"
"""Patch id: cases opened before the track deadlines (private-address application, entry
permit, planned settlement date) existed have none of them."""
STEP_CLOCK = "step-clock"
"""Patch id: steps taken before the LastStepAt search attribute existed do not set it."""
PROTECTED_WHEREABOUTS = "protected-whereabouts"
"""Patch id: a household with a protected-identity member shows no MunicipalityNumber
search attribute (visibility is read without clearance); before, it did."""
PLACES_EVENTS = "places-events"
"""Patch id: decisions recorded before places decisions were events recorded none."""

VERSIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "settlement_case": (
        ("the first case workflow", ()),
        (
            "settlement-target timers, the places ledger, the correction window",
            (SETTLEMENT_TARGET_TIMERS, PLACES_LEDGER, CORRECTION_WINDOW),
        ),
        ("reply windows and the track deadlines", (REPLY_WINDOW, TRACKS)),
        ("continue-as-new and qualification records", (CONTINUE_AS_NEW, QUALIFICATION)),
        ("the LastStepAt search attribute", (STEP_CLOCK,)),
        ("protected households: places, PersonSettled, qualification", ()),
        ("no MunicipalityNumber for a protected household", (PROTECTED_WHEREABOUTS,)),
    ),
    "qualification": (
        ("the first qualification record", ()),
        ("household-protected records", ()),
    ),
    "municipality_places": (
        ("the places ledger", ()),
        ("places decisions as events", (PLACES_EVENTS,)),
    ),
}
"""Per workflow, its versions in the order shipped (v1 first): what each brought and the
patch ids it introduced."""
