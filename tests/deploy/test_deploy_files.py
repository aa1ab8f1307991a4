"""The deploy files cannot run here (no container runtime, no cluster), so they are checked
statically: each parses and matches its schema (compose spec, Kubernetes 1.37 OpenAPI, the
Dockerfile linter), and each agrees with the code — every command it runs exists, every
setting it sets is a setting, every metric a dashboard or alert queries is exported."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from prometheus_client import CollectorRegistry

from workers.cli.main import app
from workers.operations.exporter import FiguresExporter
from workers.platform.settings import Settings
from workers.processes.monitor import Monitor
from workers.projection.instruments import BatchMetrics

DEPLOY = Path(__file__).parents[2] / "deploy"
BIN = Path(sys.executable).parent

SDK_METRICS = {
    # The Temporal SDK's counters appear on /metrics at their first increment; the names are
    # the SDK's documented ones (test_operations checks the others on a live worker).
    "temporal_activity_execution_failed_total",
    "temporal_workflow_task_execution_failed_total",
}


def _tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = BIN / name
    assert path.exists(), f"{name} is missing from the venv: make install"
    return subprocess.run([str(path), *args], capture_output=True, text=True, timeout=120)


def _commands() -> set[str]:
    """Every CLI command line, with sub-commands as 'db upgrade'."""
    root: Any = typer.main.get_command(app)
    names = set()
    for name, command in root.commands.items():
        names.add(name)
        names |= {f"{name} {sub}" for sub in getattr(command, "commands", {})}
    return names


def _runs(args: list[str]) -> str:
    """The command a container runs, as the CLI names it."""
    return " ".join(args[:2]) if " ".join(args[:2]) in _commands() else args[0]


def _settings_keys() -> set[str]:
    return {f"BOSETTING_{name.upper()}" for name in Settings.model_fields}


def _yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _k8s() -> list[dict[str, Any]]:
    return [d for p in sorted((DEPLOY / "k8s").glob("*.yaml")) for d in _yaml_docs(p)]


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


# -- the image ---------------------------------------------------------------------------


def test_the_image_definition_passes_the_linter():
    run = _tool("hadolint", str(DEPLOY / "Dockerfile"))
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_image_exposes_the_ports_the_processes_serve_on():
    exposed = re.search(r"^EXPOSE (.+)$", (DEPLOY / "Dockerfile").read_text(), re.M)
    assert exposed is not None
    assert {int(p) for p in exposed.group(1).split()} == {
        Settings.model_fields[n].default
        for n in ("api_port", "projection_metrics_port", "monitor_port", "worker_metrics_port")
    }


# -- compose -----------------------------------------------------------------------------


def test_compose_matches_the_compose_specification():
    compose = str(DEPLOY / "compose.yaml")
    run = _tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", compose)
    assert run.returncode == 0, run.stdout + run.stderr


def test_compose_runs_real_commands_with_real_settings_after_provisioning():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    ours = {n: s for n, s in services.items() if str(s.get("image", "")).startswith("bosetting:")}
    ran = {_runs(s["command"]) for s in ours.values()}
    assert ran == {"db upgrade", "topics", "search-attributes", "worker", "projection", "api",
                   "monitor"}  # fmt: skip
    assert ran <= _commands()
    for name, service in ours.items():
        unknown = set(service["environment"]) - _settings_keys()
        assert not unknown, f"{name} sets {unknown}, which are not settings"
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on a missing service {needed}"
    for part in ("worker", "projection", "api", "monitor"):
        assert set(ours[part]["depends_on"]) == {"migrate", "topics", "search-attributes"}
        # Temporal histories hold personal data, and the case-events topic where households
        # live: no stack without a payload key and a topic key.
        for keys in ("BOSETTING_PAYLOAD_KEYS", "BOSETTING_TOPIC_KEYS"):
            assert ours[part]["environment"][keys].startswith(f"${{{keys}:?")
    assert {"temporal", "kafka", "postgres", "prometheus", "grafana"} <= set(services)
    kafka = services["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert services["temporal"]["environment"]["DB"] == "postgres12"


# -- Kubernetes --------------------------------------------------------------------------


def test_the_manifests_match_the_kubernetes_schemas():
    files = [str(p) for p in sorted((DEPLOY / "k8s").glob("*.yaml"))]
    run = _tool("kubernetes-validate", "--strict", "--quiet", *files)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_manifests_run_every_part_and_provision_as_jobs():
    docs = _k8s()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    jobs = {_runs(c["args"]) for j in by_kind["Job"] for c in _containers(j)}
    assert jobs == {"db upgrade", "topics", "search-attributes"}
    parts = {_runs(c["args"]) for d in by_kind["Deployment"] for c in _containers(d)}
    assert parts == {"worker", "projection", "api", "monitor"}
    assert jobs | parts <= _commands()
    config = {k: v for d in docs if d["kind"] in ("ConfigMap", "Secret")
              for k, v in {**d.get("data", {}), **d.get("stringData", {})}.items()}  # fmt: skip
    assert set(config) <= _settings_keys()
    assert "BOSETTING_PAYLOAD_KEYS" in config  # histories hold personal data: encrypted
    assert "BOSETTING_TOPIC_KEYS" in config  # the topic says where households live: sealed
    deployments = {d["metadata"]["name"]: d for d in by_kind["Deployment"]}
    # One projection consumer per partition.
    replicas = deployments["bosetting-projection"]["spec"]["replicas"]
    assert replicas == int(config["BOSETTING_KAFKA_PARTITIONS"])
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in by_kind["HorizontalPodAutoscaler"]}
    assert "bosetting-worker" in scaled
    for d in by_kind["Deployment"]:
        for c in _containers(d):
            refs = {r.get("configMapRef", r.get("secretRef", {}))["name"] for r in c["envFrom"]}
            assert refs == {"bosetting-config", "bosetting-databases"}, d["metadata"]["name"]
            assert c["securityContext"]["runAsNonRoot"] is True


# -- Prometheus and Grafana --------------------------------------------------------------


def _exported() -> set[str]:
    """Every metric family our processes export, from their own registries."""
    registry = CollectorRegistry()
    FiguresExporter(None, registry)  # type: ignore[arg-type]
    Monitor(None, registry)  # type: ignore[arg-type]
    BatchMetrics(registry)
    return {m.name for m in registry.collect()} | {
        f"{m.name}_total" for m in registry.collect() if m.type == "counter"
    }


def _metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"\b((?:bosetting|temporal)_[a-z_]+)\b", expr))
    return {re.sub(r"_(bucket|count|sum)$", "", n) for n in names}


def _dashboard() -> dict[str, Any]:
    path = DEPLOY / "grafana" / "dashboards" / "bosetting.json"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_every_metric_the_dashboard_and_alerts_query_is_exported():
    queried: set[str] = set()
    for panel in _dashboard()["panels"]:
        for target in panel.get("targets", []):
            queried |= _metric_names(target["expr"])
    alerts = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    for group in alerts["groups"]:
        for rule in group["rules"]:
            queried |= _metric_names(rule["expr"])
    ours = {n for n in queried if n.startswith("bosetting_")}
    assert ours, "the dashboard shows none of our metrics"
    assert ours <= _exported(), ours - _exported()
    sdk = {n for n in queried if n.startswith("temporal_")}
    assert sdk - SDK_METRICS <= set(LIVE_SDK_METRICS), sdk - SDK_METRICS - set(LIVE_SDK_METRICS)


LIVE_SDK_METRICS = (
    # Checked against a live case worker's /metrics in tests/integration/test_operations.py.
    "temporal_activity_execution_latency",
    "temporal_workflow_task_schedule_to_start_latency",
)


def test_prometheus_scrapes_each_process_on_its_port_and_loads_the_alerts():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    ports = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            ports |= {int(t.rsplit(":", 1)[1]) for t in static["targets"]}
        for dns in job.get("dns_sd_configs", []):
            ports.add(dns["port"])
    defaults = {
        Settings.model_fields[n].default
        for n in ("projection_metrics_port", "monitor_port", "worker_metrics_port")
    }
    assert ports == defaults
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_the_dashboard_is_what_its_generator_makes():
    import runpy

    generator = runpy.run_path(str(DEPLOY / "grafana" / "make_dashboard.py"))
    committed = (DEPLOY / "grafana" / "dashboards" / "bosetting.json").read_text()
    assert committed == generator["render"](), "run python deploy/grafana/make_dashboard.py"


def test_grafana_provisions_the_dashboard_on_the_prometheus_datasource():
    root = DEPLOY / "grafana" / "provisioning"
    sources = yaml.safe_load((root / "datasources" / "prometheus.yaml").read_text())
    uids = {s["uid"] for s in sources["datasources"]}
    dashboard = _dashboard()
    assert dashboard["uid"] == "bosetting"
    used = {p["datasource"]["uid"] for p in dashboard["panels"] if "datasource" in p}
    assert used == uids
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    provider = yaml.safe_load((root / "dashboards" / "bosetting.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.y*ml")), ids=lambda p: p.name)
def test_no_deploy_file_names_a_registry_host_or_a_real_secret(path: Path):
    text = path.read_text()
    assert not re.search(r"\b[a-z0-9-]+\.(io|com|net)/[a-z0-9-]+/", text), "names a registry host"
    for password in re.findall(r"://[^:@/\s]+:([^@\s]+)@", text):
        assert password in ("CHANGE-ME", "password", "${POSTGRES_PASSWORD:-bosetting}")


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Debian's promtool, which make test installs; missing, the test fails, never skips."""
    path = os.environ.get("BOSETTING_TEST_PROMTOOL") or shutil.which("promtool") or "promtool"
    assert Path(path).exists(), "promtool is missing: make test installs it"
    return subprocess.run([path, *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_promtool_loads_the_alert_rules_and_their_unit_tests_pass():
    checked = promtool("check", "rules", str(DEPLOY / "prometheus" / "alerts.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", str(DEPLOY / "prometheus" / "alerts.test.yml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_promtool_accepts_the_scrape_configuration():
    checked = promtool(
        "check", "config", "--syntax-only", str(DEPLOY / "prometheus" / "prometheus.yml")
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
