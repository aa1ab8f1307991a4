"""The pages' two languages: Norwegian bokmål first, English second. Templates and code
write English message ids; ``locale/nb/LC_MESSAGES/messages.po`` translates them (read with
Babel at start, no compiled files kept), and English shows the ids themselves. Dates are
formatted for the locale by Babel."""

import gettext
import re
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime, get_timezone
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, FileSystemLoader, select_autoescape

from workers.api.web.helpers import template_helpers
from workers.api.web.labels import FIELDS, RULES

HERE = Path(__file__).parent
OSLO = get_timezone("Europe/Oslo")
LOCALES = ("nb", "en")
DEFAULT = "nb"
LANGUAGE_NAMES = {"nb": "Norsk bokmål", "en": "English"}


@cache
def translations(locale: str) -> gettext.NullTranslations:
    if locale == "en":
        return gettext.NullTranslations()
    po = HERE / "locale" / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def pick(requested: str | None, accept_language: str | None) -> str:
    """The reader's choice, else the first of ours their browser asks for, else bokmål."""
    if requested in LOCALES:
        return requested
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith(("nb", "no", "nn")):
            return "nb"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


@cache
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["locale"] = locale
    env.filters["day"] = lambda d: _day(d, locale)
    env.filters["moment"] = lambda m: _moment(m, locale)
    env.globals["message"] = lambda m: message(m, translations(locale))
    env.globals.update(
        template_helpers(translations(locale).gettext, lambda d: _day(d, locale), locale)
    )
    return env


def message(text: str, catalogue: gettext.NullTranslations) -> str:
    """An error for the reader: a message id of ours translated, or a business rule's words
    matched to a translated pattern (labels.RULES), or the API's words as they are."""
    translated = catalogue.gettext(text)
    if translated != text:
        return translated
    for pattern, msgid in RULES:
        found = re.match(pattern, text)
        if found:
            values = {
                k: catalogue.gettext(FIELDS[v]).lower() if v in FIELDS else v
                for k, v in found.groupdict().items()
            }
            return catalogue.gettext(msgid) % values
    return text


def _day(value: Any, locale: str) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, format="long" if locale == "en" else "d. MMMM y", locale=locale)


def _moment(value: Any, locale: str) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(value, format="short", locale=locale, tzinfo=OSLO)
