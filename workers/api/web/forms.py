"""Forms made from command models: each field of a step's command becomes an input of the
kind its type asks for — a date input for a date, a select list of labelled codes for an
enum, check boxes for a list of codes, a select of municipalities for a municipality number —
and what the browser sends back becomes the JSON body the API validates. Nothing about a
step's fields is written twice: the model is the form."""

import types
import typing
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel

from workers.api.web.labels import CODES, ERRORS, FIELDS

HIDDEN = frozenset({"command_id", "traceparent"})


@dataclass
class Input:
    name: str
    """The form's name for it: the field's path, dotted (``persons.0.birth_date``)."""
    label: str
    kind: str
    """date | select | checkboxes | checkbox | number | text | fixed"""
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    error: str | None = None
    form: str = ""
    """The form it belongs to: ids stay unique on a page with several forms."""

    @property
    def id(self) -> str:
        return (
            "-".join(("f", self.form, self.name) if self.form else ("f", self.name))
            .replace(".", "-")
            .replace("_", "-")
        )


@dataclass
class Group:
    """A nested model (a household member) or one row of a list of them."""

    name: str
    label: str
    inputs: list["Input | Group"]
    legend_suffix: str = ""


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``X | None`` / ``Optional[X]`` / ``Annotated[X, ...]``, and whether None
    was allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            annotation = args[0]
        else:
            return annotation, optional


def _enum_options(kind: type[Enum]) -> list[tuple[str, str]]:
    labels = CODES.get(kind.__name__, {})
    return [(m.value, labels.get(m.value, m.value)) for m in kind]


def inputs_of(
    model: type[BaseModel],
    *,
    prefix: str = "",
    municipalities: list[tuple[str, str]] | None = None,
    values: dict[str, Any] | None = None,
    rows: dict[str, list[dict[str, Any]]] | None = None,
    fixed: frozenset[str] = frozenset(),
    form: str = "",
) -> list[Input | Group]:
    """The inputs of ``model``'s fields. ``rows``: for a list of models, the rows to show
    (prefilled values; an empty dict is a blank row). ``fixed``: fields shown and sent as
    prefilled, not edited (a settlement row's person)."""
    values = values or {}
    out: list[Input | Group] = []
    for name, info in model.model_fields.items():
        if name in HIDDEN:
            continue
        path = prefix + name
        inner, optional = _unwrap(info.annotation)
        required = info.is_required() and not optional
        label = FIELDS.get(name, name)
        origin = typing.get_origin(inner)
        if origin is list:
            (item,) = typing.get_args(inner)
            item, _ = _unwrap(item)
            if isinstance(item, type) and issubclass(item, BaseModel):
                for i, row in enumerate((rows or {}).get(name, [{}])):
                    out.append(
                        Group(
                            f"{path}.{i}",
                            label,
                            inputs_of(
                                item,
                                prefix=f"{path}.{i}.",
                                municipalities=municipalities,
                                values=row,
                                fixed=fixed,
                                form=form,
                            ),
                            legend_suffix=f" {i + 1}",
                        )
                    )
                continue
            if isinstance(item, type) and issubclass(item, Enum):
                out.append(
                    Input(
                        path,
                        label,
                        "checkboxes",
                        False,
                        _enum_options(item),
                        values.get(name),
                        form=form,
                    )
                )
                continue
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out.append(
                Group(
                    path,
                    label,
                    inputs_of(
                        inner,
                        prefix=path + ".",
                        municipalities=municipalities,
                        values=values,
                        fixed=fixed,
                        form=form,
                    ),
                )
            )
            continue
        if name in fixed:
            field = Input(path, label, "fixed", required, value=values.get(name))
        else:
            field = _scalar(path, name, label, inner, required, municipalities, values)
        field.form = form
        out.append(field)
    return out


def _scalar(
    path: str,
    name: str,
    label: str,
    inner: Any,
    required: bool,
    municipalities: list[tuple[str, str]] | None,
    values: dict[str, Any],
) -> Input:
    value = values.get(name)
    if isinstance(inner, type) and issubclass(inner, Enum):
        return Input(path, label, "select", required, _enum_options(inner), value)
    if inner is date:
        return Input(path, label, "date", required, value=value)
    if inner is bool:
        return Input(path, label, "checkbox", False, value=value)
    if inner is int:
        return Input(path, label, "number", required, value=value)
    if "municipality" in name and municipalities:
        return Input(path, label, "select", required, municipalities, value)
    return Input(path, label, "text", required, value=value)


def body_from_form(
    model: type[BaseModel], form: typing.Mapping[str, Any], getlist: Any
) -> dict[str, Any]:
    """The JSON body from a submitted form: empty inputs are left out (so a required one is
    reported missing by the API, at its field), blank rows of a list are dropped, check boxes
    become booleans and lists."""
    return _body(model, "", form, getlist)


def _body(model: type[BaseModel], prefix: str, form: Any, getlist: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in HIDDEN:
            continue
        path = prefix + name
        inner, _ = _unwrap(info.annotation)
        origin = typing.get_origin(inner)
        if origin is list:
            (item,) = typing.get_args(inner)
            item, _ = _unwrap(item)
            if isinstance(item, type) and issubclass(item, BaseModel):
                items, i = [], 0
                while any(k.startswith(f"{path}.{i}.") for k in form):
                    row = _body(item, f"{path}.{i}.", form, getlist)
                    if any(v not in (False, None) for v in row.values()):
                        items.append(row)
                    i += 1
                body[name] = items
            else:
                body[name] = [v for v in getlist(path) if v]
            continue
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            body[name] = _body(inner, path + ".", form, getlist)
            continue
        if inner is bool:
            body[name] = form.get(path) == "on"
            continue
        raw = form.get(path)
        if raw is None or raw == "":
            continue
        if inner is int:
            body[name] = int(raw) if raw.strip().lstrip("-").isdigit() else raw
        else:
            body[name] = raw
    return body


def place_errors(
    items: list[Input | Group], errors: list[dict[str, Any]]
) -> list[tuple[str | None, str, str]]:
    """Puts each of the API's errors at the input it names; returns them all as (input id
    or None, its label or "", message) for the error summary. A business rule's message
    names its field as its first word (``settled_on: may not be in the future``)."""
    by_name: dict[str, Input] = {}

    def index(group: list[Input | Group]) -> None:
        for it in group:
            if isinstance(it, Group):
                index(it.inputs)
            else:
                by_name[it.name] = it

    index(items)
    summary: list[tuple[str | None, str, str]] = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", []) if p != "body"]
        kind = str(error.get("type", ""))
        msg = ERRORS[kind] if kind in ERRORS else str(error.get("msg", ""))
        name = ".".join(loc)
        if not name and ": " in msg:
            head, rest = msg.split(": ", 1)
            candidates = [n for n in by_name if n == head or n.endswith("." + head)]
            if candidates:
                name, msg = candidates[0], rest
        target = by_name.get(name)
        if target is None and name:
            # an error about a list or a group: put it on its first input
            target = next((i for n, i in by_name.items() if n.startswith(name + ".")), None)
        if target is not None and target.error is None:
            target.error = msg
        summary.append((target.id if target else None, target.label if target else "", msg))
    return summary


def refill(items: list[Input | Group], form: Any) -> None:
    """What the reader typed stays in the form when it is refused."""
    for item in items:
        if isinstance(item, Group):
            refill(item.inputs, form)
        elif item.kind == "checkboxes":
            item.value = form.getlist(item.name)
        elif item.kind == "checkbox":
            item.value = form.get(item.name) == "on"
        elif item.kind != "fixed":
            item.value = form.get(item.name) or None


def problems_of(answer: Any) -> list[dict[str, Any]]:
    """The API's refusal as a list of errors: validation and business rules (422) as they
    are; a step out of order (409) as one error for the whole form."""
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, list):
        return detail
    if answer.status_code == 409:
        return [{"loc": [], "msg": "out_of_order", "type": "out_of_order"}]
    return [{"loc": [], "msg": "unavailable", "type": "unavailable"}]
