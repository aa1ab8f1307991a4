"""The figures as documents for programs: one JSON shape per report, which the API serves and
``--json`` prints, and the CSV of a report."""

import csv
import io
from typing import Any

from workers.figures.metrics import GroupFigures, StockReport, WaitingTimeReport


def _group_row(g: GroupFigures) -> dict[str, Any]:
    return {
        "group": g.group,
        "settled": g.settled,
        "within_3_months": g.within_3_months,
        "within_6_months": g.within_6_months,
        "within_12_months": g.within_12_months,
        "share_within_3_months": g.share(3),
        "share_within_6_months": g.share(6),
        "share_within_12_months": g.share(12),
        "mean_wait_months": g.mean_wait_months,
        "median_wait_months": g.median_wait_months,
        "mean_wait_days": None if g.mean_wait_days is None else str(g.mean_wait_days),
        "median_wait_days": None if g.median_wait_days is None else str(g.median_wait_days),
    }


def report_csv(report: WaitingTimeReport) -> str:
    """One row per group, then one per steering parameter, with the period and version."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    head = ["period_start", "period_end", "as_of", "version", "kind", "id"]
    group_fields = list(_group_row(report.groups[0]).keys())[1:] if report.groups else []
    writer.writerow([*head, *group_fields, "numerator", "denominator", "share", "target"])
    common = [
        report.period_start.isoformat(),
        report.period_end.isoformat(),
        report.as_of.isoformat() if report.as_of else "",
    ]
    for g in report.groups:
        row = _group_row(g)
        writer.writerow(
            [*common, report.metric_version, report.by, g.group]
            + ["" if row[k] is None else row[k] for k in group_fields]
            + ["", "", "", ""]
        )
    for m in report.steering:
        writer.writerow(
            [*common, m.version, "steering", m.id]
            + [""] * len(group_fields)
            + [m.numerator, m.denominator, "" if m.share is None else m.share, m.target or ""]
        )
    return out.getvalue()


def report_json(report: WaitingTimeReport) -> dict[str, Any]:
    return {
        "metric_version": report.metric_version,
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "as_of": report.as_of.isoformat() if report.as_of else None,
        "by": report.by,
        "steering": [m.model_dump() for m in report.steering],
        "waited_over_12_months": report.waited_over_12_months,
        "groups": [_group_row(g) for g in report.groups],
    }


def stock_json(stock: StockReport) -> dict[str, Any]:
    """Who was waiting on a day (K8, K9): the median's days exact, as text, as in the
    report's groups, and in months."""
    return {
        "metric_version": stock.metric_version,
        "on": stock.on.isoformat(),
        "as_of": stock.as_of.isoformat() if stock.as_of else None,
        "waiting_in_reception": stock.waiting_in_reception,
        "median_wait_days": None if stock.median_wait_days is None else str(stock.median_wait_days),
        "median_wait_months": stock.median_wait_months,
        "waiting_abroad": stock.waiting_abroad,
        "by_wait": stock.by_wait,
    }
