"""The command machinery both entity workflows share (the case and the qualification record):
each command is checked before it reaches history (the update's validator), checked again
under the workflow's lock (an update that held the lock may have moved the state on), applied
once, and answered with its first result when its id comes again (a retry, a replay)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.commands import Command
    from workflows.rules import RuleViolation

R = TypeVar("R")


class Commands(Generic[R]):
    """Handed what it needs by its workflow, never reaching back into it: where the applied
    commands are kept, the check, how a violation becomes the caller's error, whether the
    workflow has opened, and the lock it shares with the workflow's deadline watches."""

    def __init__(
        self,
        *,
        applied: Callable[[], dict[str, R]],
        check: Callable[[Command], None],
        refuse: Callable[[RuleViolation], ApplicationError],
        opened: Callable[[], bool],
        lock: asyncio.Lock,
    ) -> None:
        self._applied = applied
        self._check = check
        self._refuse = refuse
        self._opened = opened
        self._lock = lock

    def validate(self, cmd: Command) -> None:
        """The update's validator: refuse a command before it reaches history. A repeated
        command id is accepted and answered with its first result."""
        if cmd.command_id in self._applied():
            return
        self._checked(cmd)

    async def handle(self, cmd: Command, apply: Callable[[], Awaitable[R]]) -> R:
        """The update's body: one command at a time, each applied once."""
        await workflow.wait_condition(self._opened)
        async with self._lock:
            applied = self._applied()
            if cmd.command_id in applied:
                return applied[cmd.command_id]
            self._checked(cmd)
            result = await apply()
            self._applied()[cmd.command_id] = result
            return result

    def _checked(self, cmd: Command) -> None:
        try:
            self._check(cmd)
        except RuleViolation as violation:
            raise self._refuse(violation) from None
