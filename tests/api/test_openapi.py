"""The OpenAPI document is served and the committed copy is the one the code makes."""

import json
from pathlib import Path

from workers.api.app import create_app
from workflows.steps import CASE_STEPS, PERSON_STEPS

COMMITTED = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_the_committed_openapi_document_is_current():
    made = create_app().openapi()
    assert json.loads(COMMITTED.read_text()) == json.loads(json.dumps(made)), (
        "docs/openapi.json is stale: bosetting openapi > docs/openapi.json"
    )


def test_every_step_is_documented_with_its_roles():
    paths = create_app().openapi()["paths"]
    for step in CASE_STEPS:
        post = paths[f"/cases/{{case_id}}/{step.path}"]["post"]
        assert post["x-roles"] == sorted(r.value for r in step.roles)
        assert {"401", "403", "404", "409", "422"} <= set(post["responses"])
    for step in PERSON_STEPS:
        assert f"/persons/{{person_id}}/{step.path}" in paths


async def test_the_document_is_served(api):
    r = await api.client.get("/openapi.json")
    assert r.status_code == 200
    assert r.json()["info"]["title"] == "Bosetting"
