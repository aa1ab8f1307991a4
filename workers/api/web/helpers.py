"""Small pure helpers the templates call: labels of sorts, groups and record facts, the
colour of a deadline, numbers for the locale, the API's problems as an error summary."""

from typing import Any

from workers.api.web.labels import CODES, ERRORS, FIELDS, N_

SORTS = {
    "target": N_("Settlement target"),
    "waiting": N_("Longest waiting"),
    "reply": N_("Reply due"),
    "allocated": N_("Allocated on"),
    "accepted": N_("Accepted on"),
    "last-step": N_("Last step"),
    "due": N_("Next deadline"),
}
BREAKDOWNS = [
    ("category", N_("Category")),
    ("case_type", N_("Case type")),
    ("municipality", N_("Municipality")),
    ("county", N_("County")),
    ("reception_centre", N_("Reception centre")),
    ("settled_by", N_("Settled by")),
]
GROUP_KINDS = {"category": "Category", "case_type": "CaseType"}
RECORD_FACTS = [
    ("settled_on", N_("Settled on")),
    ("municipality_number", N_("Municipality")),
    ("programme_right", N_("Right to the introduction programme")),
    ("programme_start_due", N_("Programme must start by")),
    ("mapped_on", N_("Mapped on")),
    ("programme_decided_on", N_("Programme decided on")),
    ("end_goal", N_("End goal")),
    ("programme_started_on", N_("Programme started on")),
    ("programme_ended_on", N_("Programme ended on")),
    ("norwegian_right", N_("Right to Norwegian training")),
    ("norwegian_start_due", N_("Norwegian training must start by")),
    ("norwegian_started_on", N_("Norwegian training started on")),
    ("norwegian_completion_due", N_("Norwegian training must be completed by")),
    ("norwegian_completed_on", N_("Norwegian training completed on")),
    ("norwegian_exempted_on", N_("Exempted from Norwegian training on")),
]
RIGHTS = {
    "right_and_obligation": N_("Right and obligation"),
    "may_be_offered": N_("May be offered"),
    "obligation_only": N_("Obligation only"),
    "none": N_("None"),
}
COLOURS = {"on_track": "success", "approaching": "warning", "breached": "danger", "met": "info"}


def template_helpers(gettext: Any, day: Any, locale: str) -> dict[str, Any]:
    def record_facts(record: dict[str, Any]) -> list[tuple[str, str]]:
        out = []
        for name, label in RECORD_FACTS:
            value = record.get(name)
            if value in (None, "", []):
                continue
            if name.endswith(("_on", "_due")):
                shown = day(value)
            elif name in ("programme_right", "norwegian_right"):
                shown = gettext(RIGHTS.get(value, value))
            elif name == "end_goal":
                shown = gettext(CODES["EndGoal"].get(value, value))
            else:
                shown = str(value)
            out.append((label, shown))
        return out

    def percent(value: Any) -> str:
        if value is None:
            return "–"
        text = f"{float(value) * 100:.1f}\u00a0%"
        return text.replace(".", ",") if locale == "nb" else text

    def number(value: Any) -> str:
        if value is None:
            return "–"
        text = f"{float(value):.1f}"
        return text.replace(".", ",") if locale == "nb" else text

    def group_label(group: str, by: str) -> str:
        if group == "total":
            return N_("All")
        kind = GROUP_KINDS.get(by)
        return CODES[kind].get(group, group) if kind else group

    def problems_summary(problems: list[dict[str, Any]]) -> list[tuple[str | None, str, str]]:
        out: list[tuple[str | None, str, str]] = []
        for p in problems:
            field = str(p.get("loc", ["", ""])[-1])
            kind = str(p.get("type", ""))
            out.append((None, FIELDS.get(field, field), ERRORS.get(kind) or str(p.get("msg", ""))))
        return out

    return {
        "sort_label": lambda s: SORTS.get(s, s),
        "deadline_color": lambda s: COLOURS.get(s, "neutral"),
        "record_facts": record_facts,
        "percent": percent,
        "number": number,
        "group_label": group_label,
        "problems_summary": problems_summary,
        "breakdowns": BREAKDOWNS,
    }
