"""Typed search attributes, so operations can run
``temporal workflow list --query "CaseStage='allocated' AND MunicipalityNumber='0301'"``."""

from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
CASE_TYPE = SearchAttributeKey.for_keyword("CaseType")
CASE_CATEGORY = SearchAttributeKey.for_keyword("CaseCategory")
MUNICIPALITY_NUMBER = SearchAttributeKey.for_keyword("MunicipalityNumber")
DEADLINE_STATE = SearchAttributeKey.for_keyword("DeadlineState")
LAST_STEP_AT = SearchAttributeKey.for_datetime("LastStepAt")
"""When the case last took a step (wall-clock): the monitor finds cases that stopped moving."""

ALL = (CASE_STAGE, CASE_TYPE, CASE_CATEGORY, MUNICIPALITY_NUMBER, DEADLINE_STATE, LAST_STEP_AT)
"""Every key the workflows upsert; each must be registered on the namespace."""


def cli_type(key: SearchAttributeKey[Any]) -> str:
    """The type's name as ``temporal server start-dev --search-attribute`` spells it."""
    return {"datetime": "Datetime"}.get(key.value_type.__name__, "Keyword")


def initial(case_type: str, opened_at: datetime) -> "TypedSearchAttributes":
    """The attributes a case starts with, so it is findable before its first step runs."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(CASE_STAGE, "permit_granted"),
            SearchAttributePair(CASE_TYPE, case_type),
            SearchAttributePair(LAST_STEP_AT, opened_at),
        ]
    )
