"""Errors a caller of the case commands can receive, with what they need to act on them."""

from schemas.enums import CaseStage

OUT_OF_ORDER = "OutOfOrderCommand"
"""Temporal ApplicationError type for a command the case's current stage does not allow."""
INVALID_COMMAND = "InvalidCommand"
"""Temporal ApplicationError type for a command that breaks a business rule."""


class CommandRejected(Exception):
    """A command was refused and nothing changed."""

    def __init__(self, message: str, *, reason: str, stage: CaseStage | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.stage = stage


class CaseNotFound(Exception):
    """No case with that id exists."""
