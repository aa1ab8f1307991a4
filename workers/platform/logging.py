"""structlog set-up: readable in a terminal, JSON lines otherwise (and in production)."""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from schemas.qualification import workflow_label
from workers.platform.settings import Settings
from workers.platform.tracing import add_trace_ids, configure_tracing


def hide_persons(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor, the one place the rule lives for logs: no person id on a line
    (it could be a protected person's). A ``person_id`` field is dropped, and a qualification
    record's workflow id (which holds one) is shown by its label."""
    event_dict.pop("person_id", None)
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = workflow_label(value)
        elif isinstance(value, dict):  # Temporal's loggers nest theirs (temporal_workflow)
            hide_persons(logger, method, value)
    return event_dict


def drop_color_message(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """uvicorn attaches ``color_message``, its message again with terminal colour codes: noise
    in a JSON line, and the event says it already."""
    event_dict.pop("color_message", None)
    return event_dict


def configure_logging(settings: Settings, *, component: str) -> None:
    """Logs and traces of one process: structlog (with the current trace and span ids on every
    line) and the OpenTelemetry tracer provider (``workers/platform/tracing.py``)."""
    configure_tracing(settings, component=component)
    json_output = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty()
    )
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        drop_color_message,
        hide_persons,  # after the extras library loggers attach
    ]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            hide_persons,
            add_trace_ids,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # Temporal's workflow.logger and library loggers go through the same renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    structlog.contextvars.bind_contextvars(component=component)
