"""The web app speaks Norwegian everywhere: every message it shows is in the bokmål catalogue,
and every field, code, step and event a page can show has a label there."""

import enum
import typing
from pathlib import Path

import pydantic
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import schemas.events
import schemas.qualification
from schemas.commands import GrantPermit
from schemas.places import RecordPlacesDecision
from workers.api.deps import SYSTEM_FIELDS
from workers.api.web import labels
from workflows.steps import CASE_STEPS, PERSON_STEPS

WEB = Path(labels.__file__).parent
PO = WEB / "locale" / "nb" / "LC_MESSAGES" / "messages.po"


def extracted() -> set[str]:
    """The messages in the code and templates, found as `pybabel extract` with babel.cfg
    finds them."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(WEB), method_map, options, keywords={"_": None, "N_": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalogue() -> dict[str, str]:
    with PO.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}  # type: ignore[misc]


def test_every_message_shown_has_a_norwegian_translation() -> None:
    nb = catalogue()
    missing = sorted(m for m in extracted() if not nb.get(m))
    assert not missing, f"translate in {PO.relative_to(WEB.parents[2])}: {missing}"


def test_the_catalogue_holds_no_message_that_is_no_longer_shown() -> None:
    stale = sorted(set(catalogue()) - extracted())
    assert not stale, f"remove from the catalogue: {stale}"


def test_translations_keep_their_placeholders() -> None:
    with PO.open("rb") as f:
        problems = [(m.id, errs) for m, errs in read_po(f).check() if errs]
    assert not problems


def _fields_and_codes(model: type[pydantic.BaseModel]) -> tuple[set[str], set[type[enum.Enum]]]:
    fields: set[str] = set()
    codes: set[type[enum.Enum]] = set()
    for name, info in model.model_fields.items():
        if name in SYSTEM_FIELDS:
            continue
        fields.add(name)
        stack = [info.annotation]
        while stack:
            t = stack.pop()
            stack.extend(typing.get_args(t))
            if isinstance(t, type) and issubclass(t, enum.Enum):
                codes.add(t)
            elif isinstance(t, type) and issubclass(t, pydantic.BaseModel):
                more, kinds = _fields_and_codes(t)
                fields |= more
                codes |= kinds
    return fields, codes


def test_every_field_and_code_of_every_step_has_a_label() -> None:
    fields: set[str] = set()
    codes: set[type[enum.Enum]] = set()
    for model in [
        GrantPermit,
        RecordPlacesDecision,
        *(s.command for s in (*CASE_STEPS, *PERSON_STEPS)),
    ]:
        more, kinds = _fields_and_codes(model)
        fields |= more
        codes |= kinds
    assert sorted(fields - set(labels.FIELDS)) == []
    for kind in codes:
        have = labels.CODES.get(kind.__name__, {})
        assert sorted(m.value for m in kind if m.value not in have) == [], kind.__name__
    assert {s.update for s in (*CASE_STEPS, *PERSON_STEPS)} <= set(labels.STEPS)


def test_every_event_a_timeline_can_show_has_a_label() -> None:
    types = set()
    for module in (schemas.events, schemas.qualification):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, pydantic.BaseModel):
                field = value.model_fields.get("type")
                if field is not None and isinstance(field.default, str):
                    types.add(field.default)
    assert types, "found no event types"
    assert sorted(types - set(labels.EVENTS)) == []


def test_every_figure_the_dashboard_can_show_has_a_label() -> None:
    from workers.figures.definitions import MAPPING, QUALIFICATION, VERSIONS

    ids = {d.id for d in (*MAPPING, *QUALIFICATION)} | {
        d.id for version in VERSIONS.values() for d in version
    }
    assert sorted(ids - set(labels.MEASURES)) == []
