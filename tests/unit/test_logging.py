"""Log lines never carry a person id: one processor, in every process's chain. Library
loggers' lines come out in the same form."""

import json
import logging

import structlog

from workers.platform.logging import configure_logging, hide_persons
from workers.platform.settings import Settings


def test_person_ids_are_dropped_and_a_records_workflow_is_labelled():
    line = {
        "event": "step taken",
        "person_id": "case-0001-p0",
        "workflow_id": "qualification/case-0001-p0",
        "case": "settlement-case/case-0001",
        "temporal_workflow": {"workflow_id": "qualification/case-0001-p1", "attempt": 2},
    }
    assert hide_persons(None, "info", line) == {
        "event": "step taken",
        "workflow_id": "a qualification record",
        "case": "settlement-case/case-0001",
        "temporal_workflow": {"workflow_id": "a qualification record", "attempt": 2},
    }


def test_every_process_logs_through_it(tmp_path):
    configure_logging(Settings(state_dir=tmp_path), component="test")
    assert hide_persons in structlog.get_config()["processors"]


def test_a_library_loggers_line_is_one_json_object_without_colour_codes(tmp_path, capsys):
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(Settings(state_dir=tmp_path, log_format="json"), component="test")
    try:
        logging.getLogger("uvicorn.error").info(
            "Started server process [%d]",
            42,
            extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"},
        )
    finally:
        root.handlers[:], root.level = handlers, level
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "Started server process [42]"
    assert "color_message" not in line
    assert line["component"] == "test"
