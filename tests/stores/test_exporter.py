"""The Prometheus gauges of the projection, read from a real read model."""

from datetime import date

from prometheus_client import CollectorRegistry, generate_latest

from tests.stores.test_projection_apply import apply, case_events, records
from workers.operations.exporter import FiguresExporter


async def test_the_gauges_show_progress_and_the_years_figures(projection_db):
    await apply(projection_db, records(case_events()), {0: 4})
    registry = CollectorRegistry()
    exporter = FiguresExporter(projection_db, registry, today=lambda: date(2020, 3, 1))
    await exporter.refresh()
    text = generate_latest(registry).decode()
    assert "bosetting_projection_applied_events 4.0" in text
    assert 'bosetting_figure_share{id="SP13.2",version="settlement/1"} 1.0' in text
    assert 'bosetting_figure_denominator{id="K1"} 2.0' in text
    assert "bosetting_figure_waiting_in_reception 2.0" in text
