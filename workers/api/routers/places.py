"""A municipality council's decision on places (the places it will settle in a year): the
municipality records its own (the directorate's request and adjustment as they stand), the
directorate any (an adjusted request, or on the municipality's behalf). Recording it again
revises it. The places ledger's workflow keeps it (workers/services/places.py); the answer
is the year's places as the reader may see them."""

from typing import Annotated, cast

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel

from schemas.enums import Role
from schemas.places import PlacesLedger, RecordPlacesDecision
from workers.api.access import PLACES_DECIDERS, places_view
from workers.api.deps import (
    Caller,
    Ctx,
    IdempotencyKey,
    authenticated,
    keyed,
    request_model,
    require,
    strictly,
)
from workers.api.models import COMMAND_ERRORS

router = APIRouter()
DecisionBody = request_model(RecordPlacesDecision)


class Places(BaseModel):
    """A municipality-year's places: the decision, and what is used, held and left."""

    municipality_number: str
    year: int
    requested: int
    adjusted: int | None
    decided: int
    used: int
    held: int
    left: int
    decided_unaccompanied_minors: int
    used_unaccompanied_minors: int


def places_of(ledger: PlacesLedger) -> Places:
    decision = ledger.decision
    return Places(
        municipality_number=ledger.municipality_number,
        year=ledger.year,
        requested=decision.requested if decision else 0,
        adjusted=decision.adjusted if decision else None,
        decided=decision.decided if decision else 0,
        used=ledger.used,
        held=ledger.held(False),
        left=ledger.left(False),
        decided_unaccompanied_minors=decision.decided_unaccompanied_minors if decision else 0,
        used_unaccompanied_minors=ledger.used_unaccompanied_minors,
    )


@router.post(
    "/municipalities/{municipality_number}/places/{year}",
    dependencies=[authenticated, Depends(strictly(DecisionBody))],
    tags=["places"],
    responses=COMMAND_ERRORS,
    summary="Record the council's decision on places",
    openapi_extra={"x-roles": sorted(r.value for r in PLACES_DECIDERS)},
)
async def record_places_decision(
    municipality_number: Annotated[str, Path(pattern=r"^\d{4}$")],
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: DecisionBody,  # type: ignore[valid-type]
    key: IdempotencyKey,
    principal: Caller,
    context: Ctx,
) -> Places:
    """The places the council decided for a year (requested, adjusted, decided, and for
    unaccompanied minors). A municipality records its own only."""
    require(principal, PLACES_DECIDERS, "record places decisions")
    if principal.role is Role.MUNICIPALITY and principal.municipality_number != municipality_number:
        raise HTTPException(403, "a municipality records its own council's decision")
    if context.places is None:
        raise HTTPException(503, "the places service is unavailable")
    decision = cast(
        RecordPlacesDecision,
        await keyed(
            context,
            f"places/{municipality_number}/{year}",
            RecordPlacesDecision,
            cast(BaseModel, body),
            principal,
            key,
        ),
    )
    if principal.role is Role.MUNICIPALITY:
        decision = _keep_the_directorates_numbers(
            decision, (await context.places.ledger(municipality_number, year)).decision
        )
    ledger = await context.places.record_decision(municipality_number, year, decision)
    return places_of(places_view(principal, ledger))


def _keep_the_directorates_numbers(
    decision: RecordPlacesDecision, current: RecordPlacesDecision | None
) -> RecordPlacesDecision:
    """The request and its adjustment are the directorate's: a municipality records its
    council's decision, repeating the request as it stands (the first decision brings the
    request the council answered); an adjustment left out is kept as it stands."""
    if current is None:
        if decision.adjusted is not None:
            raise HTTPException(403, "adjusted: only the directorate adjusts a request")
        return decision
    if decision.adjusted is None:
        decision = decision.model_copy(update={"adjusted": current.adjusted})
    for field in ("requested", "requested_unaccompanied_minors", "adjusted"):
        if getattr(decision, field) != getattr(current, field):
            raise HTTPException(
                403, f"{field}: the directorate's request; a municipality may not change it"
            )
    return decision
