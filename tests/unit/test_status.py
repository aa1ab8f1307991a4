"""The liveness verdicts of bosetting status, from heartbeat rows."""

from datetime import UTC, datetime, timedelta

from workers.operations.status import _liveness
from workers.platform.register import Heartbeat

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

    from workers.operations.alerts import Alert
    from workers.operations.status import Check, Status
    from workers.processes.monitor import Monitor

    def status(verdict: str, value: float) -> Status:
        return Status(
            at=NOW, checks=[Check(name="projection", verdict=verdict, detail="why", value=value)]
        )

    class Probe:
        def __init__(self) -> None:
            self.answers = [status("OK", 1), status("DOWN", 0), status("DOWN", 0), status("OK", 1)]

        async def status(self) -> Status:
            return self.answers.pop(0)

    class Alerts:  # a fake of our alert sender port
        def __init__(self) -> None:
            self.sent: list[list[Alert]] = []

        async def send(self, alerts: list[Alert]) -> None:
            self.sent.append(alerts)

    registry = CollectorRegistry()
    alerts = Alerts()
    monitor = Monitor(Probe(), registry, alerts)  # type: ignore[arg-type]
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
    sent = [[(a.state, a.check, a.verdict) for a in batch] for batch in alerts.sent]
    assert sent == [[], [("raised", "projection", "DOWN")], [], [("cleared", "projection", "OK")]]


def test_an_alert_is_a_cloudevent_keyed_by_its_check():
    from workers.operations.alerts import Alert, alert_record

    alert = Alert(state="raised", check="projection", verdict="DOWN", detail="why", at=NOW)
    record = alert_record(alert)
    headers = dict(record.headers)
    assert record.key == b"projection"
    assert headers["ce_type"] == b"no.bosetting.alert.raised.v1"
    assert headers["ce_source"] == b"urn:bosetting:monitor"
    assert headers["ce_subject"] == b"projection"
    assert headers["content-type"] == b"application/json"
    assert Alert.model_validate_json(record.value) == alert


def test_a_shortfall_of_applied_events_is_news_only_once_events_had_time_to_arrive():
    from workers.operations.status import _completeness

    just_now, long_ago = NOW - timedelta(seconds=2), NOW - timedelta(minutes=5)
    assert _completeness(100, 100, long_ago, NOW).verdict == "OK"
    assert _completeness(100, 97, just_now, NOW).verdict == "OK"  # still travelling
    lost = _completeness(100, 97, long_ago, NOW)
    assert (lost.verdict, lost.value) == ("WARN", 3)
    assert "broker-data-lost" in lost.detail
    assert _completeness(0, 0, None, NOW).verdict == "OK"


def test_each_cause_of_a_shortfall_has_its_own_message_and_only_loss_the_runbook():
    """A paused broker or a crash-looping projection is not a broker that lost its data."""
    from workers.operations.status import Travel, _completeness

    long_ago = NOW - timedelta(minutes=5)
    causes = {
        "paused broker": Travel(broker_up=False),
        "projection down": Travel(projection_alive=False),
        "still on the topic": Travel(behind_on_topic=3),
        "lost": Travel(),
    }
    details = {k: _completeness(100, 97, long_ago, NOW, t).detail for k, t in causes.items()}
    assert "broker is unreachable" in details["paused broker"]
    assert "projection is not running" in details["projection down"]
    assert "3 are on the topic" in details["still on the topic"]
    assert [k for k, d in details.items() if "broker-data-lost" in d] == ["lost"]
    more = _completeness(97, 100, long_ago, NOW)
    assert (more.verdict, more.value) == ("WARN", -3)
    assert "more events applied than logged" in more.detail


async def test_alerts_wait_for_a_broker_that_is_away_and_go_when_it_returns():
    from schemas.envelope import KafkaRecord
    from workers.operations.alerts import Alert, KafkaAlerts

    class Sink:  # a fake of our event sink port
        def __init__(self, up: bool) -> None:
            self.up, self.got = up, []

        async def send_all(self, records: list[KafkaRecord]) -> None:
            if not self.up:
                raise ConnectionError("broker away")
            self.got += records

        async def close(self) -> None:
            pass

    sinks = [Sink(up=False), Sink(up=True)]

    async def connect() -> Sink:
        return sinks.pop(0) if len(sinks) > 1 else sinks[0]

    alerts = KafkaAlerts(connect)  # type: ignore[arg-type]
    raised = Alert(state="raised", check="broker", verdict="DOWN", detail="away", at=NOW)
    cleared = raised.model_copy(update={"state": "cleared", "verdict": "OK"})
    await alerts.send([raised])  # the broker is away: kept
    await alerts.send([cleared])  # reconnects; both go, in order
    assert [r.key for r in sinks[0].got] == [b"broker", b"broker"]
    assert [Alert.model_validate_json(r.value).state for r in sinks[0].got] == [
        "raised",
        "cleared",
    ]


def test_a_consumers_lag_is_measured_against_the_marks_and_a_lost_broker_shows():
    from workers.figures.queries import ProjectionStatus
    from workers.operations.status import _consumer
    from workers.platform.kafka import TopicEnd

    stored = ProjectionStatus(
        applied_events=5,
        settled_persons=0,
        dead_letters=0,
        lag={"g": 0},  # what the stopped consumer last said
        last_batch_at={"g": NOW - timedelta(minutes=2)},
    )
    written = int((NOW - timedelta(seconds=20)).timestamp() * 1000)
    end = TopicEnd({0: 9, 1: 3, 2: 4}, {0: written + 5000, 2: written})
    measured = _consumer("g", {0: 5, 1: 3}, end, stored, NOW)
    assert (measured.verdict, measured.value) == ("OK", 4 + 0 + 4)  # never read partition 2
    assert "the oldest written 20 s ago" in measured.detail
    assert measured.seconds == 20.0
    assert "last batch 120 s ago" in measured.detail
    stale = TopicEnd({0: 9}, {0: written - 60_000})
    assert _consumer("g", {0: 5}, stale, stored, NOW).verdict == "WARN"  # 80 s behind
    lost = _consumer("g", {0: 5, 1: 3}, TopicEnd({0: 2, 1: 3}, {}), stored, NOW)  # came back empty
    assert lost.verdict == "WARN"
    assert "[0]" in lost.detail
    assert "broker-data-lost" in lost.detail
    away = _consumer("g", {0: 5}, None, stored, NOW)
    assert (away.verdict, away.value) == ("WARN", 0)
    assert "broker unreachable" in away.detail


def test_checks_name_cases_but_never_a_persons_record():
    from schemas.qualification import workflow_label

    assert workflow_label("settlement-case/case-0001") == "settlement-case/case-0001"
    assert workflow_label("qualification/case-0001-p0") == "a qualification record"
