"""Writes dashboards/bosetting.json, the Grafana dashboard of the steering figures and system
health: ``python deploy/grafana/make_dashboard.py``. Edit the panels here, not the JSON; a test
checks the JSON is what this makes and that every metric it queries is exported."""

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "dashboards" / "bosetting.json"
SOURCE = {"type": "prometheus", "uid": "prometheus"}
CHECKS = {
    "defaults": {
        "mappings": [
            {
                "type": "value",
                "options": {
                    "0": {"text": "FAILING", "color": "red"},
                    "1": {"text": "OK", "color": "green"},
                },
            }
        ],
        "thresholds": {
            "mode": "absolute",
            "steps": [{"color": "red", "value": None}, {"color": "green", "value": 1}],
        },
    },
    "overrides": [],
}
SHARES = {"defaults": {"unit": "percentunit", "min": 0, "max": 1}, "overrides": []}
ACTIVITY_P95 = (
    "histogram_quantile(0.95, sum by (le, activity_type) "
    "(rate(temporal_activity_execution_latency_bucket[5m])))"
)
TASK_WAIT_P95 = (
    "histogram_quantile(0.95, sum by (le) "
    "(rate(temporal_workflow_task_schedule_to_start_latency_bucket[5m])))"
)


class Layout:
    """Panels placed left to right, top to bottom, on Grafana's 24-column grid."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self.y = 0

    def row(self, title: str) -> None:
        grid = {"h": 1, "w": 24, "x": 0, "y": self.y}
        self.panels.append({"type": "row", "title": title, "collapsed": False, "gridPos": grid})
        self.y += 1

    def panel(
        self,
        kind: str,
        title: str,
        queries: list[tuple[str, str]],
        *,
        x: int,
        w: int,
        h: int,
        unit: str | None = None,
        description: str = "",
        **extra: Any,
    ) -> None:
        defaults = {"unit": unit} if unit else {}
        self.panels.append(
            {
                "type": kind,
                "title": title,
                "description": description,
                "datasource": SOURCE,
                "gridPos": {"h": h, "w": w, "x": x, "y": self.y},
                "targets": [
                    {"datasource": SOURCE, "expr": expr, "legendFormat": legend, "refId": ref}
                    for (expr, legend), ref in zip(queries, "ABCDEFGH", strict=False)
                ],
                "fieldConfig": {"defaults": defaults, "overrides": []},
                "options": {},
                **extra,
            }
        )

    def down(self, h: int) -> None:
        self.y += h


def dashboard() -> dict[str, Any]:
    d = Layout()
    d.row("Steering figures, this calendar year (the projection)")
    d.panel(
        "bargauge",
        "Share settled within target, by figure",
        [("bosetting_figure_share", "{{id}}")],
        x=0,
        w=12,
        h=9,
        description="SP13.x and the other shares; definitions: bosetting metrics --json.",
        options={"orientation": "horizontal", "displayMode": "gradient"},
        fieldConfig=SHARES,
    )
    d.panel("stat", "Persons settled", [("bosetting_figure_settled_persons", "")], x=12, w=6, h=4)
    waiting = [("bosetting_figure_waiting_in_reception", "")]
    d.panel("stat", "Waiting in reception (K9)", waiting, x=18, w=6, h=4)
    d.down(4)
    median = [("bosetting_figure_waiting_median_months", "")]
    d.panel("stat", "Median wait in reception, months (K8)", median, x=12, w=6, h=5)
    abroad = [("bosetting_figure_waiting_abroad", "")]
    d.panel("stat", "Resettlement refugees waiting abroad", abroad, x=18, w=6, h=5)
    d.down(5)
    d.row("System health (the monitor, the projection, the case workers)")
    d.panel(
        "stat",
        "Checks (bosetting status has the detail)",
        [("bosetting_check_ok", "{{check}}")],
        x=0,
        w=24,
        h=5,
        fieldConfig=CHECKS,
        options={"colorMode": "background", "textMode": "value_and_name"},
    )
    d.down(5)
    d.panel(
        "timeseries",
        "Consumer lag, records (measured by the monitor: grows while a consumer is stopped)",
        [('bosetting_check_value{check=~"consumer .*"}', "{{check}}")],
        x=0,
        w=12,
        h=8,
    )
    behind = [('bosetting_check_seconds{check=~"consumer .*"}', "{{check}}")]
    d.panel(
        "timeseries",
        "Seconds behind: age of the oldest record not yet applied",
        behind,
        x=12,
        w=12,
        h=8,
        unit="s",
    )
    d.down(8)
    failures = [
        (
            "sum by (activity_type) (rate(temporal_activity_execution_failed_total[5m]))",
            "activity {{activity_type}}",
        ),
        (
            "sum by (workflow_type) (rate(temporal_workflow_task_execution_failed_total[5m]))",
            "workflow task {{workflow_type}}",
        ),
    ]
    d.panel("timeseries", "Failures per second", failures, x=0, w=12, h=8, unit="ops")
    latency = [(ACTIVITY_P95, "{{activity_type}}")]
    d.panel("timeseries", "Activity latency p95", latency, x=12, w=12, h=8, unit="s")
    d.down(8)
    d.panel(
        "timeseries",
        "Workflow tasks waiting for a worker, p95 (add case workers when it climbs)",
        [(TASK_WAIT_P95, "schedule-to-start")],
        x=0,
        w=12,
        h=8,
        unit="s",
    )
    applied = [("sum by (consumer) (rate(bosetting_projection_events_total[5m]))", "{{consumer}}")]
    d.panel(
        "timeseries", "Events applied per second, all replicas", applied, x=12, w=8, h=8, unit="ops"
    )
    dead = [("bosetting_projection_dead_letters", "")]
    d.panel("stat", "Dead letters", dead, x=20, w=4, h=8)
    for number, panel in enumerate(d.panels, start=1):
        panel["id"] = number
    return {
        "uid": "bosetting",
        "title": "Bosetting: steering figures and system health",
        "tags": ["bosetting"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "panels": d.panels,
        "templating": {"list": []},
        "annotations": {"list": []},
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT}")
