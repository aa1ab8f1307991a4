"""Which activities keep failing, for the monitor. A worker interceptor writes a row to the
register when an activity attempt fails with an error Temporal will retry, and deletes it when
a later attempt of the same activity succeeds. Only the error's type is kept: messages can
carry personal data.

Deliberate outcomes (a non-retryable ``ApplicationError``, e.g. a municipality with no places
left) are answers, not failures, and are not recorded. When the register itself is down the
row cannot be written; the heartbeats stop too, and ``bosetting status`` says so."""

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from workers.platform.register import FailingActivity

log = structlog.get_logger("activities")


def _retried(exc: BaseException) -> bool:
    return not (isinstance(exc, ApplicationError) and exc.non_retryable)


class FailureRecorder(Interceptor):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Recording(next, self._sessions)


class _Recording(ActivityInboundInterceptor):
    def __init__(
        self, next: ActivityInboundInterceptor, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        super().__init__(next)
        self._sessions = sessions

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        try:
            result = await super().execute_activity(input)
        except Exception as exc:
            if _retried(exc):
                await self._failed(info, type(exc).__name__)
            raise
        if info.attempt > 1:
            await self._recovered(info)
        return result

    async def _failed(self, info: activity.Info, error_type: str) -> None:
        now = datetime.now(UTC)
        workflow_id = info.workflow_id or ""
        log.warning(
            "activity failed",
            workflow_id=workflow_id,  # a person's record is labelled by the log processor
            activity_type=info.activity_type,
            attempt=info.attempt,
            error=error_type,
        )
        try:
            async with self._sessions.begin() as session:
                changed = await session.execute(
                    update(FailingActivity)
                    .where(
                        FailingActivity.workflow_id == workflow_id,
                        FailingActivity.activity_id == info.activity_id,
                    )
                    .values(attempt=info.attempt, error_type=error_type, last_failed_at=now)
                )
                if changed.rowcount == 0:  # type: ignore[attr-defined]
                    session.add(
                        FailingActivity(
                            workflow_id=workflow_id,
                            activity_id=info.activity_id,
                            activity_type=info.activity_type,
                            attempt=info.attempt,
                            error_type=error_type,
                            first_failed_at=now,
                            last_failed_at=now,
                        )
                    )
        except Exception as exc:  # the register is down: the heartbeats tell that story
            log.warning("activity failure not recorded", error=type(exc).__name__)

    async def _recovered(self, info: activity.Info) -> None:
        try:
            async with self._sessions.begin() as session:
                await session.execute(
                    delete(FailingActivity).where(
                        FailingActivity.workflow_id == (info.workflow_id or ""),
                        FailingActivity.activity_id == info.activity_id,
                    )
                )
        except Exception as exc:
            log.warning("activity recovery not recorded", error=type(exc).__name__)
