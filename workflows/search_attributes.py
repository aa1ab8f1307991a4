"""Typed search attributes, so operations can run
``temporal workflow list --query "CaseStage='allocated' AND MunicipalityNumber='0301'"``."""

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
CASE_TYPE = SearchAttributeKey.for_keyword("CaseType")
CASE_CATEGORY = SearchAttributeKey.for_keyword("CaseCategory")
MUNICIPALITY_NUMBER = SearchAttributeKey.for_keyword("MunicipalityNumber")
DEADLINE_STATE = SearchAttributeKey.for_keyword("DeadlineState")

ALL = (CASE_STAGE, CASE_TYPE, CASE_CATEGORY, MUNICIPALITY_NUMBER, DEADLINE_STATE)
"""Every key the workflows upsert; each must be registered on the namespace."""


def initial(case_type: str) -> "TypedSearchAttributes":
    """The attributes a case starts with, so it is findable before its first step runs."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(CASE_STAGE, "permit_granted"),
            SearchAttributePair(CASE_TYPE, case_type),
        ]
    )
