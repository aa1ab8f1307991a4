"""Pseudonymous identifiers. They travel to Kafka and into Temporal ids, so they must never
be, or contain, a national identity number, D-number or DUF number."""

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

_PSEUDONYM = r"^[A-Za-z][A-Za-z0-9_-]{3,63}$"
# Eleven digits in a row is the shape of a Norwegian national identity or D-number;
# twelve is a DUF number. A pseudonym carrying either is a leak, whatever else it holds.
_IDENTITY_NUMBER = re.compile(r"\d{11,12}")


def not_an_identity_number(value: str) -> str:
    if _IDENTITY_NUMBER.search(value):
        raise ValueError(
            "must be a pseudonymous reference and may not contain 11 or 12 consecutive digits "
            "(the shape of a national identity, D- or DUF number)"
        )
    return value


CaseId = Annotated[
    str,
    StringConstraints(pattern=_PSEUDONYM),
    AfterValidator(not_an_identity_number),
]
"""A household case's pseudonymous id: a letter, then 4–64 letters, digits, '-' or '_'."""

PersonId = CaseId
"""A person's pseudonymous id, same rules as a case id."""

MunicipalityNumber = Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
"""The four-digit municipality number (kommunenummer), e.g. '0301' for Oslo."""

CommandId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""The caller's idempotency key: the same command id applied twice changes nothing."""


def workflow_id_for(case_id: str) -> str:
    """The Temporal workflow id of a case, derived from its business key."""
    return f"settlement-case/{case_id}"
