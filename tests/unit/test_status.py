"""The liveness verdicts of bosetting status, from heartbeat rows."""

from datetime import UTC, datetime, timedelta

from workers.heartbeat import Heartbeat
from workers.status import _liveness

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def beat(pid: int, seconds_ago: float) -> Heartbeat:
    seen = NOW - timedelta(seconds=seconds_ago)
    return Heartbeat(component="projection", instance=f"h:{pid}", pid=pid,
                     started_at=seen - timedelta(hours=1), seen_at=seen)  # fmt: skip


def test_alive_down_restarted_and_never_started():
    assert _liveness("projection", [beat(10, 1)], NOW).verdict == "OK"
    down = _liveness("projection", [beat(10, 9)], NOW)
    assert (down.verdict, down.detail) == ("DOWN", "no heartbeat for 9 s")
    restarted = _liveness("projection", [beat(10, 9), beat(11, 1)], NOW)
    assert restarted.verdict == "WARN"
    assert "pid 10 9 s ago" in restarted.detail
    assert "alive: pid 11" in restarted.detail
    # An old crash is history, not news.
    assert _liveness("projection", [beat(10, 3600), beat(11, 1)], NOW).verdict == "OK"
    assert _liveness("projection", [], NOW).detail == "not running"
