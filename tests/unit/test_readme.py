"""The README's configuration table names every setting, so none is undocumented."""

from pathlib import Path

from workers.platform.settings import Settings

README = Path(__file__).parents[2] / "README.md"


def test_every_setting_is_in_the_configuration_table():
    text = README.read_text()
    table = text[text.index("## Configuration") : text.index("## Privacy")]
    missing = [
        f"BOSETTING_{name.upper()}"
        for name in Settings.model_fields
        if f"BOSETTING_{name.upper()}" not in table
    ]
    assert not missing, f"add to the README's Configuration: {missing}"
