"""The demo itself: what ``make demo`` runs, on free ports, checked against the oracle."""

from datetime import date

import pytest

from tests.integration.conftest import stack_settings
from tests.oracle import as_comparable, oracle
from workers.cli.common import console
from workers.cli.demo import run_demo
from workers.figures.queries import waiting_time
from workers.platform import db
from workers.simulation.synthetic import generate

pytestmark = pytest.mark.integration


async def test_demo_figures_equal_an_independent_batch_computation_of_its_own_cases(tmp_path):
    settings = stack_settings(tmp_path)
    assert await run_demo(settings, households=40, seed=5, year=2020, console=console)
    engine = db.make_engine(settings.projection_url)
    try:
        report = await waiting_time(db.sessionmaker(engine), date(2020, 1, 1), date(2020, 12, 31))
    finally:
        await engine.dispose()
    expected = oracle(generate(40, seed=5, year=2020), date(2020, 1, 1), date(2020, 12, 31))
    assert as_comparable(report) == expected
    assert expected["total"]["settled"] > 40
