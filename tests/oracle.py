"""An independent batch computation of the waiting-time figures, straight from the generated
households. It shares no code with the projection or the workflow rules on purpose: if both
agree, the pipeline and the arithmetic agree."""

import calendar
from datetime import date
from fractions import Fraction

from schemas.commands import RecordCompetenceMapping
from workers.services.plans import HouseholdPlan


def _plus_months(d: date, n: int) -> date:
    years, month0 = divmod(d.month - 1 + n, 12)
    year, month = d.year + years, month0 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _years_old(born: date, on: date) -> int:
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years


def _group(plan: HouseholdPlan) -> str:
    first = min(plan.settlements.values())
    minors = [_years_old(p.birth_date, first) < 18 for p in plan.persons]
    if all(minors):
        return "unaccompanied_minor"
    if any(minors):
        return "family_with_children"
    return "other_adult"


def oracle(plans: list[HouseholdPlan], start: date, end: date) -> dict[str, dict[str, object]]:
    rows: dict[str, list[tuple[date, date]]] = {
        "unaccompanied_minor": [],
        "family_with_children": [],
        "other_adult": [],
        "total": [],
    }
    for plan in plans:
        settled = plan.settlements
        if not settled:
            continue
        group = _group(plan)
        protected = {p.person_id for p in plan.persons if p.protected_identity}
        for person_id, settled_on in settled.items():
            if not (start <= settled_on <= end):
                continue
            pair = (plan.permit_date_of(person_id), settled_on)
            rows["total"].append(pair)
            if person_id not in protected:
                rows[group].append(pair)
    out: dict[str, dict[str, object]] = {"steering": _steering(plans, start, end)}
    for group, pairs in rows.items():
        out[group] = group_figures(pairs)
    return out


def group_figures(pairs: list[tuple[date, date]]) -> dict[str, object]:
    """One group's figures from its (permit date, settlement date) pairs, the plain way."""
    days = sorted((t1 - t0).days for t0, t1 in pairs)
    n = len(days)
    median = None
    if n:
        median = Fraction(days[n // 2]) if n % 2 else Fraction(days[n // 2 - 1] + days[n // 2], 2)
    return {
        "settled": n,
        "within_3_months": sum(t1 <= _plus_months(t0, 3) for t0, t1 in pairs),
        "within_6_months": sum(t1 <= _plus_months(t0, 6) for t0, t1 in pairs),
        "within_12_months": sum(t1 <= _plus_months(t0, 12) for t0, t1 in pairs),
        "mean_wait_days": Fraction(sum(days), n) if n else None,
        "median_wait_days": median,
    }


def _steering(plans: list[HouseholdPlan], start: date, end: date) -> dict[str, tuple[int, int]]:
    """Numerator and denominator of each steering parameter, counted the plain way."""
    counts: dict[str, list[int]] = {}

    def count(metric: str, hit: bool) -> None:
        tally = counts.setdefault(metric, [0, 0])
        tally[0] += hit
        tally[1] += 1

    for plan in plans:
        settled = plan.settlements
        if not settled:
            continue
        group = _group(plan)
        case_type = plan.grant.case_type.value
        youngest = min(_years_old(p.birth_date, plan.grant.permit_date) for p in plan.grant.persons)
        bufetat = group == "unaccompanied_minor" and youngest < 15
        protected = {p.person_id for p in plan.persons if p.protected_identity}
        family: list[tuple[date, date]] = []
        for person_id, t1 in settled.items():
            if not (start <= t1 <= end):
                continue
            t0 = plan.permit_date_of(person_id)
            count("K1", t1 <= _plus_months(t0, 6))
            count("K2", t1 <= _plus_months(t0, 12))
            if case_type == "resettlement":
                count("SP13.1", t1 <= _plus_months(t0, 6))
            if case_type in ("resettlement", "reception"):
                mapped = [s.mapped_on for s in plan.steps if isinstance(s, RecordCompetenceMapping)]
                count(f"SP6-{case_type}", bool(mapped) and min(mapped) <= t1)
            if person_id in protected:
                continue
            if group == "other_adult" and case_type == "reception":
                count("SP13.2", t1 <= _plus_months(t0, 6))
            if group == "unaccompanied_minor":
                count("SP13.3", t1 <= _plus_months(t0, 3))
                count("SP13.3-Bufetat" if bufetat else "SP13.3-IMDi", t1 <= _plus_months(t0, 3))
            if group == "family_with_children" and case_type == "reception":
                count("SP13.4-persons", t1 <= _plus_months(t0, 3))
                family.append((t0, t1))
        if family:
            first_t0 = min(t0 for t0, _ in family)
            first_t1 = min(t1 for _, t1 in family)
            count("SP13.4", first_t1 <= _plus_months(first_t0, 3))
    return {metric: (hit, total) for metric, (hit, total) in counts.items()}


def as_comparable(report) -> dict[str, dict[str, object]]:
    """The projection's report in the oracle's shape."""
    groups: dict[str, dict[str, object]] = {
        g.group: {
            "settled": g.settled,
            "within_3_months": g.within_3_months,
            "within_6_months": g.within_6_months,
            "within_12_months": g.within_12_months,
            "mean_wait_days": g.mean_wait_days,
            "median_wait_days": g.median_wait_days,
        }
        for g in report.groups
    }
    steering = {m.id: (m.numerator, m.denominator) for m in report.steering if m.denominator}
    return {"steering": steering, **groups}


def oracle_stock(plans: list[HouseholdPlan], on: date) -> dict[str, object]:
    """Who was waiting at the end of ``on``, counted the plain way: settlement-ready persons
    in reception (K9) with the median of their waits so far (K8, in days), and resettlement
    refugees with an entry permit still abroad."""
    from schemas.commands import (
        AddHouseholdMember,
        RecordArrival,
        RecordSettlementInterview,
    )

    in_reception: list[int] = []
    abroad = 0
    for plan in plans:
        case_type = plan.grant.case_type.value
        interview = next(
            (s.held_on for s in plan.steps if isinstance(s, RecordSettlementInterview)), None
        )
        arrived = next((s.arrived_on for s in plan.steps if isinstance(s, RecordArrival)), None)
        exited = plan.exit.exited_on if plan.exit else None
        settled = plan.settlements
        joined = {
            s.person.person_id: s.permit_date
            for s in plan.steps
            if isinstance(s, AddHouseholdMember)
        }
        for person in plan.persons:
            t0 = joined.get(person.person_id, plan.grant.permit_date)
            t1 = settled.get(person.person_id)
            if t0 > on or (t1 is not None and t1 <= on) or (exited is not None and exited <= on):
                continue
            if case_type == "reception" and interview is not None:
                ready = max(interview, t0)
                if ready <= on:
                    in_reception.append((on - t0).days)
            if case_type == "resettlement" and (arrived is None or arrived > on):
                abroad += 1
    days = sorted(in_reception)
    n = len(days)
    median = None
    if n:
        median = Fraction(days[n // 2]) if n % 2 else Fraction(days[n // 2 - 1] + days[n // 2], 2)
    return {"waiting_in_reception": n, "median_wait_days": median, "waiting_abroad": abroad}
