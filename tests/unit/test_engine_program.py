"""REMS policy findings: registry rules at their date boundaries, and policy choice by date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from clozapine import ClozapineOrder, PatientFacts, Registry, policy_in_force
from clozapine.registry import Certification, Enrollment, StatusForm
from tests.unit.cases import Case, anc, check, facts, ids, order

AS_OF_2021 = date(2021, 12, 1)
AS_OF_2018 = date(2018, 6, 1)


def _patient(as_of: date, values: list[tuple[int, int]], start: int = -200) -> PatientFacts:
    """Facts on `as_of`: ANCs at day offsets, one ongoing order naming dr-a and ph-1."""
    ancs = [anc(value, offset, as_of=as_of) for value, offset in values]
    prescribed = order(
        start, as_of=as_of, prescriber="Practitioner/dr-a", pharmacy="Organization/ph-1"
    )
    return facts(ancs, [prescribed])


def _registry(
    prescriber: str | None = "2021-09-01",
    pharmacy: str | None = "2021-10-01",
    enrolled: str | None = "2021-11-20",
    forms: tuple[str, ...] = (),
) -> Registry:
    return Registry(
        prescribers=()
        if prescriber is None
        else (Certification("Practitioner/dr-a", date.fromisoformat(prescriber)),),
        pharmacies=()
        if pharmacy is None
        else (Certification("Organization/ph-1", date.fromisoformat(pharmacy)),),
        patients=()
        if enrolled is None
        else (Enrollment("Patient/p1", date.fromisoformat(enrolled)),),
        status_forms=tuple(StatusForm("Patient/p1", date.fromisoformat(f)) for f in forms),
    )


FRESH = [(2000, -30), (2000, -16), (2000, -2)]
REMS_2021 = (
    "patient-not-enrolled",
    "prescriber-not-certified",
    "pharmacy-not-certified",
    "enrollment-anc-stale",
    "psf-overdue",
    "enrollment-unknown",
)

CASES = [
    Case(
        "2021-all-in-order",
        _patient(AS_OF_2021, FRESH),
        {"policy": "us-rems-2021", "overall": "ok"},
        exclude=REMS_2021,
        as_of=AS_OF_2021,
        registry=_registry(),
    ),
    Case(
        "2021-no-registry-unknown",
        _patient(AS_OF_2021, FRESH),
        {"overall": "ok"},
        include=("enrollment-unknown",),
        exclude=REMS_2021[:-1],
        as_of=AS_OF_2021,
    ),
    Case(
        "2021-old-system-records-do-not-count",
        _patient(AS_OF_2021, FRESH),
        {"overall": "attention"},
        include=("prescriber-not-certified", "pharmacy-not-certified", "patient-not-enrolled"),
        as_of=AS_OF_2021,
        registry=_registry("2021-08-15", "2019-01-01", "2020-01-01"),
    ),
    Case(
        "2021-program-opening-day-counts",
        _patient(AS_OF_2021, FRESH),
        {},
        exclude=("prescriber-not-certified",),
        as_of=AS_OF_2021,
        registry=_registry("2021-08-16"),
    ),
    Case(
        "2021-record-after-as-of-does-not-count",
        _patient(AS_OF_2021, FRESH),
        {},
        include=("prescriber-not-certified",),
        as_of=AS_OF_2021,
        registry=_registry("2021-12-02"),
    ),
    Case(
        "2021-labs-30-days-before-enrollment-count",
        _patient(AS_OF_2021, [(2000, -41), (2000, -2)]),
        {},
        exclude=("enrollment-anc-stale",),
        as_of=AS_OF_2021,
        registry=_registry(),
    ),
    Case(
        "2021-labs-31-days-before-enrollment-stale",
        _patient(AS_OF_2021, [(2000, -42), (2000, -2)]),
        {},
        include=("enrollment-anc-stale",),
        as_of=AS_OF_2021,
        registry=_registry(),
    ),
    Case(
        "2021-psf-37-days-ok",
        _patient(date(2022, 3, 1), FRESH),
        {},
        exclude=("psf-overdue",),
        as_of=date(2022, 3, 1),
        registry=_registry(forms=("2022-01-23",)),
    ),
    Case(
        "2021-psf-38-days-overdue",
        _patient(date(2022, 3, 1), FRESH),
        {},
        include=("psf-overdue",),
        as_of=date(2022, 3, 1),
        registry=_registry(forms=("2022-01-22",)),
    ),
    Case(
        "2021-rationale-moderate",
        _patient(AS_OF_2021, [(2000, -8), (800, -1)]),
        {},
        include=("treatment-rationale-required",),
        as_of=AS_OF_2021,
        registry=_registry(),
    ),
    Case(
        "2021-rationale-not-for-mild",
        _patient(AS_OF_2021, [(2000, -8), (1200, -1)]),
        {},
        exclude=("treatment-rationale-required",),
        as_of=AS_OF_2021,
    ),
    Case(
        "2015-certified-enrolled",
        _patient(AS_OF_2018, FRESH),
        {"policy": "us-rems-2015", "overall": "ok"},
        exclude=REMS_2021,
        as_of=AS_OF_2018,
        registry=_registry("2015-10-12", "2016-01-01", "2017-01-01"),
    ),
    Case(
        "2015-record-before-program-does-not-count",
        _patient(AS_OF_2018, FRESH),
        {},
        include=("prescriber-not-certified",),
        exclude=("psf-overdue", "enrollment-anc-stale"),
        as_of=AS_OF_2018,
        registry=_registry("2015-10-11", "2016-01-01", "2017-01-01"),
    ),
    Case(
        "2015-nothing-registered",
        _patient(AS_OF_2018, FRESH),
        {"overall": "attention"},
        include=("prescriber-not-certified", "pharmacy-not-certified", "patient-not-enrolled"),
        as_of=AS_OF_2018,
        registry=_registry(None, None, None),
    ),
    Case(
        "2015-rationale-severe",
        _patient(AS_OF_2018, [(2000, -8), (400, -1)]),
        {},
        include=("treatment-rationale-required", "enrollment-unknown"),
        as_of=AS_OF_2018,
    ),
    Case(
        "2015-requester-names-no-practitioner-unknown",
        facts(
            [anc(2000, -2, as_of=AS_OF_2018)],
            [order(-200, as_of=AS_OF_2018, prescriber_unidentified=True)],
        ),
        {"overall": "attention"},
        include=("prescriber-unknown",),
        exclude=("prescriber-not-certified",),
        as_of=AS_OF_2018,
        registry=_registry("2015-10-12", "2016-01-01", "2017-01-01"),
    ),
    Case(
        "2021-requester-names-no-practitioner-unknown",
        facts(
            [anc(2000, d, as_of=AS_OF_2021) for d in (-30, -16, -2)],
            [order(-200, as_of=AS_OF_2021, prescriber_unidentified=True)],
        ),
        {},
        include=("prescriber-unknown",),
        exclude=("prescriber-not-certified",),
        as_of=AS_OF_2021,
        registry=_registry(),
    ),
    Case(
        "2021-no-requester-no-prescriber-finding",
        facts(
            [anc(2000, d, as_of=AS_OF_2021) for d in (-30, -16, -2)],
            [order(-200, as_of=AS_OF_2021)],
        ),
        {},
        exclude=("prescriber-unknown", "prescriber-not-certified"),
        as_of=AS_OF_2021,
        registry=_registry(),
    ),
    Case(
        "2021-unidentified-without-registry-only-enrollment-unknown",
        facts(
            [anc(2000, -2, as_of=AS_OF_2021)],
            [order(-200, as_of=AS_OF_2021, prescriber_unidentified=True)],
        ),
        {},
        include=("enrollment-unknown",),
        exclude=("prescriber-unknown",),
        as_of=AS_OF_2021,
    ),
    Case(
        "2021-latest-enrollment-decides-status-ignored",
        _patient(AS_OF_2021, FRESH),
        {},
        exclude=("patient-not-enrolled", "enrollment-anc-stale"),
        as_of=AS_OF_2021,
        registry=Registry(
            prescribers=(Certification("Practitioner/dr-a", date(2021, 9, 1)),),
            pharmacies=(Certification("Organization/ph-1", date(2021, 10, 1)),),
            patients=(
                Enrollment("Patient/p1", date(2021, 8, 20)),
                Enrollment("Patient/p1", date(2021, 11, 20), None, "discontinued"),
            ),
        ),
    ),
    Case(
        "2021-latest-enrollment-labs-window",
        _patient(AS_OF_2021, [(2000, -50), (2000, -2)]),
        {},
        include=("enrollment-anc-stale",),  # the latest enrollment, 2021-11-20, has no labs
        as_of=AS_OF_2021,
        registry=Registry(
            prescribers=(Certification("Practitioner/dr-a", date(2021, 9, 1)),),
            pharmacies=(Certification("Organization/ph-1", date(2021, 10, 1)),),
            patients=(
                Enrollment("Patient/p1", date(2021, 11, 20)),
                Enrollment("Patient/p1", date(2021, 10, 13)),
            ),
        ),
    ),
    Case(
        "label-policy-rems-eliminated",
        facts([anc(2000, -2)]),
        {"policy": "us-label-2025"},
        include=("rems-eliminated",),
        exclude=("enrollment-unknown", "treatment-rationale-required"),
    ),
    Case(
        "explicit-policy-applies-whatever-the-date",
        facts([anc(2000, -2)]),
        {"policy": "us-rems-2021"},
        include=("enrollment-unknown",),
        exclude=("rems-eliminated",),
        policy="us-rems-2021",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_engine_program_case_matches_expectations(case: Case) -> None:
    check(case)


def test_engine_2021_messages_name_the_transition_deadline() -> None:
    evaluation = check(
        Case(
            "msg",
            _patient(AS_OF_2021, FRESH),
            {},
            as_of=AS_OF_2021,
            registry=_registry(None, None, None),
        )
    )
    for finding in evaluation.findings:
        if finding.code in (
            "patient-not-enrolled",
            "prescriber-not-certified",
            "pharmacy-not-certified",
        ):
            assert "2021-12-22" in finding.message


@pytest.mark.parametrize(
    ("as_of", "policy_id"),
    [
        (date(2015, 10, 12), "us-rems-2015"),
        (date(2021, 11, 14), "us-rems-2015"),
        (date(2021, 11, 15), "us-rems-2021"),
        (date(2025, 2, 23), "us-rems-2021"),
        (date(2025, 2, 24), "us-label-2025"),
        (date(2026, 11, 25), "us-label-2025"),
    ],
)
def test_policy_in_force_on_boundary_dates(as_of: date, policy_id: str) -> None:
    assert policy_in_force(as_of).policy_id == policy_id


def test_policy_in_force_before_2015_refused() -> None:
    from clozapine import UnknownPolicyError

    with pytest.raises(UnknownPolicyError):
        policy_in_force(date(2015, 10, 11))


def test_engine_current_order_prescriber_from_latest_started_order() -> None:
    from clozapine import ClozapineOrder

    orders = [
        ClozapineOrder(date(2021, 6, 1), None, date(2021, 6, 1), "Practitioner/old", None),
        ClozapineOrder(date(2021, 11, 1), None, date(2021, 11, 1), "Practitioner/dr-a", None),
        ClozapineOrder(date(2021, 12, 20), None, date(2021, 12, 1), "Practitioner/planned", None),
    ]
    case = Case(
        "order",
        facts([anc(2000, -1, as_of=AS_OF_2021)], orders),
        {},
        as_of=AS_OF_2021,
        registry=_registry(),
        exclude=("prescriber-not-certified",),
    )
    check(case)


def _tied(**kwargs) -> list[ClozapineOrder]:
    start: Any = {"start_on": date(2021, 11, 1), "end_on": None}
    return [
        ClozapineOrder(**start, prescriber="Practitioner/dr-a", **kwargs.pop("certified", {})),
        ClozapineOrder(**start, prescriber="Practitioner/other", **kwargs.pop("other", {})),
    ]


@pytest.mark.parametrize(
    ("certified", "other", "winner"),
    [
        # authoredOn compared as instants: 09:00-05:00 is after 13:00Z on the same date
        (
            {"authored_at": datetime(2021, 10, 1, 9, tzinfo=timezone(timedelta(hours=-5)))},
            {"authored_at": datetime(2021, 10, 1, 13, tzinfo=UTC)},
            "Practitioner/dr-a",
        ),
        # equal instants: the greater id by code point ("b" > "B"; "10" < "9")
        (
            {"authored_at": datetime(2021, 10, 1, tzinfo=UTC), "order_id": "b"},
            {"authored_at": datetime(2021, 10, 1, tzinfo=UTC), "order_id": "B"},
            "Practitioner/dr-a",
        ),
        (
            {"authored_at": datetime(2021, 10, 1, tzinfo=UTC), "order_id": "10"},
            {"authored_at": datetime(2021, 10, 1, tzinfo=UTC), "order_id": "9"},
            "Practitioner/other",
        ),
        # a missing id is lowest, a missing authoredOn loses
        ({"order_id": "a"}, {}, "Practitioner/dr-a"),
        ({"authored_on": date(2021, 1, 1)}, {"order_id": "z"}, "Practitioner/dr-a"),
    ],
)
def test_engine_current_order_ties_never_follow_bundle_order(certified, other, winner) -> None:
    from clozapine.treatment import current_order, treatment_episodes

    for orders in (
        _tied(certified=certified, other=other),
        _tied(certified=certified, other=other)[::-1],
    ):
        [episode] = treatment_episodes(tuple(orders), 30)
        assert current_order(episode, AS_OF_2021).prescriber == winner
