"""The package's metadata: its licence as an SPDX expression (PEP 639) with the file beside it."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_licence_is_an_spdx_expression_with_its_file() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"  # not the deprecated table form
    assert project["project"]["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text()[:200]
    # PEP 639 metadata needs setuptools 77 or later to build.
    assert project["build-system"]["requires"] == ["setuptools>=77"]
