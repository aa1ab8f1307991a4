"""The liveness verdicts of bosetting status, from heartbeat rows."""

from datetime import UTC, datetime, timedelta

from workers.heartbeat import Heartbeat
from workers.status import _liveness

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def beat(pid: int, seconds_ago: float) -> Heartbeat:
    seen = NOW - timedelta(seconds=seconds_ago)
    return Heartbeat(
        component="projection",
        instance=f"h:{pid}",
        pid=pid,
        started_at=seen - timedelta(hours=1),
        seen_at=seen,
    )


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


async def test_the_monitor_raises_and_clears_alerts_and_sets_its_gauges():
    from prometheus_client import CollectorRegistry
    from structlog.testing import capture_logs

    from workers.monitor import Monitor
    from workers.status import Check, Status

    def status(verdict: str, value: float) -> Status:
        return Status(
            at=NOW, checks=[Check(name="projection", verdict=verdict, detail="why", value=value)]
        )

    class Probe:
        def __init__(self) -> None:
            self.answers = [status("OK", 1), status("DOWN", 0), status("DOWN", 0), status("OK", 1)]

        async def status(self) -> Status:
            return self.answers.pop(0)

    registry = CollectorRegistry()
    monitor = Monitor(Probe(), registry)  # type: ignore[arg-type]
    gauge = {"check": "projection"}
    with capture_logs() as logs:
        await monitor.look()
        assert registry.get_sample_value("bosetting_check_ok", gauge) == 1
        await monitor.look()
        assert registry.get_sample_value("bosetting_check_ok", gauge) == 0
        assert registry.get_sample_value("bosetting_check_value", gauge) == 0
        await monitor.look()  # still down: no second alert
        await monitor.look()
    events = [(e["event"], e.get("verdict")) for e in logs if "alert" in e["event"]]
    assert events == [("alert", "DOWN"), ("alert cleared", None)]


def test_a_shortfall_of_applied_events_is_news_only_once_events_had_time_to_arrive():
    from workers.status import _completeness

    just_now, long_ago = NOW - timedelta(seconds=2), NOW - timedelta(minutes=5)
    assert _completeness(100, 100, long_ago, NOW).verdict == "OK"
    assert _completeness(100, 97, just_now, NOW).verdict == "OK"  # still travelling
    lost = _completeness(100, 97, long_ago, NOW)
    assert (lost.verdict, lost.value) == ("WARN", 3)
    assert "broker-data-lost" in lost.detail
    assert _completeness(0, 0, None, NOW).verdict == "OK"
