"""The Incident aggregate: lifecycle, severity, roles, timestamps, timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain import events
from tocsin.domain.actors import Actor
from tocsin.domain.errors import (
    ChronologyViolation,
    InvalidInput,
    InvalidTransition,
    NoChange,
    NotFound,
)
from tocsin.domain.incident_details import ServiceRef
from tocsin.domain.incidents import Incident, parse_reference
from tocsin.domain.milestones import Milestone, Source
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind
from tocsin.domain.war_room import PersonRef

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
ALICE = Actor("Alice", user_id=1, person_id=1)
CHECKOUT = ServiceRef(1, "checkout")


def declare(**kwargs: object) -> Incident:
    fields: dict[str, object] = {
        "id": 7,
        "title": "Checkout down",
        "severity": Severity.P2,
        "actor": ALICE,
        "now": T0,
        "services": [CHECKOUT],
    }
    fields.update(kwargs)
    return Incident.declare(**fields)  # type: ignore[arg-type]


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class TestDeclare:
    def test_starts_investigating_with_declared_and_detected_now(self) -> None:
        incident = declare()
        assert incident.status is Status.INVESTIGATING
        assert incident.stamp(Milestone.DECLARED) == T0
        assert incident.stamps[Milestone.DECLARED].source is Source.SYSTEM
        assert incident.stamp(Milestone.DETECTED) == T0
        assert [e.kind for e in incident.new_entries] == [EntryKind.DECLARED]
        assert incident.new_entries[0].body == "Declared P2 incident: Checkout down (checkout)"
        assert {type(e) for e in incident.events} == {
            events.IncidentDeclared,
            events.TimelineEntryAdded,
        }

    def test_keeps_earlier_detection_and_impact_times_with_their_source(self) -> None:
        incident = declare(detected_at=later(-5), impact_started_at=later(-9))
        assert incident.stamp(Milestone.DETECTED) == later(-5)
        assert incident.stamps[Milestone.DETECTED].source is Source.PERSON
        assert incident.stamp(Milestone.IMPACT_STARTED) == later(-9)

    def test_detection_after_declaration_is_refused_naming_both(self) -> None:
        with pytest.raises(
            ChronologyViolation, match=r"detected_at .* must not be later than declared_at"
        ):
            declare(detected_at=later(-1), impact_started_at=later(-2)).set_timestamp(
                Milestone.DETECTED, later(1), ALICE, later(2)
            )

    def test_impact_after_detection_is_refused(self) -> None:
        with pytest.raises(ChronologyViolation, match=r"impact_started_at .* detected_at"):
            declare(detected_at=later(-5), impact_started_at=later(-1))

    def test_naive_time_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="time zone"):
            declare(detected_at=datetime(2026, 11, 26, 2, 0))  # noqa: DTZ001

    @pytest.mark.parametrize("title", ["", "   ", "x" * 201])
    def test_bad_titles_are_refused(self, title: str) -> None:
        with pytest.raises(InvalidInput) as err:
            declare(title=title)
        assert err.value.field == "title"

    def test_duplicate_services_collapse(self) -> None:
        assert declare(services=[CHECKOUT, CHECKOUT]).services == [CHECKOUT]


class TestStatus:
    def test_walks_the_lifecycle_setting_timestamps(self) -> None:
        incident = declare()
        incident.change_status(Status.IDENTIFIED, ALICE, later(5))
        incident.change_status(Status.MONITORING, ALICE, later(10), note="rolled back")
        assert incident.stamp(Milestone.MITIGATED) == later(10)
        incident.change_status(Status.RESOLVED, ALICE, later(30))
        assert incident.stamp(Milestone.RESOLVED) == later(30)
        assert incident.stamp(Milestone.MITIGATED) == later(10), "first mitigation time is kept"
        incident.change_status(Status.CLOSED, ALICE, later(60))
        assert incident.stamp(Milestone.CLOSED) == later(60)
        bodies = [e.body for e in incident.new_entries]
        assert "Status changed: Identified → Monitoring — rolled back" in bodies

    def test_resolving_directly_counts_as_mitigated(self) -> None:
        incident = declare()
        incident.change_status(Status.RESOLVED, ALICE, later(3))
        assert incident.stamp(Milestone.MITIGATED) == later(3)

    def test_invalid_transition_names_the_allowed_ones(self) -> None:
        incident = declare()
        with pytest.raises(InvalidTransition) as err:
            incident.change_status(Status.CLOSED, ALICE, later(1))
        assert err.value.detail == (
            "cannot move INC-7 from Investigating to Closed; "
            "allowed from Investigating: Identified, Monitoring, Resolved"
        )
        assert incident.status is Status.INVESTIGATING
        assert len(incident.new_entries) == 1, "nothing logged for a refused change"

    def test_same_status_is_no_change(self) -> None:
        with pytest.raises(NoChange, match="already Investigating"):
            declare().change_status(Status.INVESTIGATING, ALICE, later(1))

    @pytest.mark.parametrize("closed", [False, True])
    def test_reopen_clears_resolution_and_says_what_it_was(self, closed: bool) -> None:
        incident = declare()
        incident.change_status(Status.RESOLVED, ALICE, later(10))
        if closed:
            incident.change_status(Status.CLOSED, ALICE, later(20))
        incident.change_status(Status.INVESTIGATING, ALICE, later(30), note="errors are back")
        assert incident.status is Status.INVESTIGATING
        assert incident.stamp(Milestone.RESOLVED) is None
        assert incident.stamp(Milestone.CLOSED) is None
        body = incident.new_entries[-1].body
        assert body.startswith("Reopened: ")
        assert "resolved_at was 2026-11-26T03:10:00Z" in body
        assert body.endswith("errors are back")

    def test_closed_cannot_go_back_to_resolved(self) -> None:
        incident = declare()
        incident.change_status(Status.RESOLVED, ALICE, later(1))
        incident.change_status(Status.CLOSED, ALICE, later(2))
        with pytest.raises(InvalidTransition, match=r"allowed from Closed: Investigating$"):
            incident.change_status(Status.RESOLVED, ALICE, later(3))


class TestSeverity:
    def test_raise_and_lower_with_reason_on_the_timeline(self) -> None:
        incident = declare()
        incident.reclassify(Severity.P1, "all regions down", ALICE, later(1))
        incident.reclassify(Severity.P3, "only EU affected", ALICE, later(2))
        assert incident.severity is Severity.P3
        assert [e.body for e in incident.new_entries[1:]] == [
            "Severity raised from P2 to P1: all regions down",
            "Severity lowered from P1 to P3: only EU affected",
        ]
        assert incident.new_entries[1].data == {
            "from": "P2",
            "to": "P1",
            "reason": "all regions down",
        }

    def test_reason_is_required(self) -> None:
        with pytest.raises(InvalidInput) as err:
            declare().reclassify(Severity.P1, "  ", ALICE, later(1))
        assert err.value.field == "reason"

    def test_same_severity_is_no_change(self) -> None:
        with pytest.raises(NoChange):
            declare().reclassify(Severity.P2, "why not", ALICE, later(1))

    def test_parse_is_forgiving_about_case_but_not_levels(self) -> None:
        assert Severity.parse(" p1 ") is Severity.P1
        with pytest.raises(InvalidInput, match="expected one of P1, P2, P3, P4"):
            Severity.parse("P5")
        assert Severity.P1.is_more_severe_than(Severity.P4)


class TestRoles:
    def test_hand_over_names_both_people(self) -> None:
        incident = declare()
        incident.assign_role(Role.INCIDENT_COMMANDER, PersonRef(1, "Alice"), ALICE, later(1))
        incident.assign_role(Role.INCIDENT_COMMANDER, PersonRef(2, "Bob"), ALICE, later(2))
        assert [a.person_name for a in incident.holders(Role.INCIDENT_COMMANDER)] == ["Bob"]
        assert incident.new_entries[-1].body == "Incident Commander handed over from Alice to Bob"
        assert incident.new_entries[-1].data["previous_person"] == "Alice"

    def test_several_experts_and_relieving_one(self) -> None:
        incident = declare()
        sme = Role.SUBJECT_MATTER_EXPERT
        incident.assign_role(sme, PersonRef(1, "Alice"), ALICE, later(1))
        incident.assign_role(sme, PersonRef(2, "Bob"), ALICE, later(2))
        assert len(incident.holders(sme)) == 2
        with pytest.raises(InvalidInput, match="2 people are Subject Matter Expert"):
            incident.relieve_role(sme, None, ALICE, later(3))
        incident.relieve_role(sme, 1, ALICE, later(3))
        assert [a.person_name for a in incident.holders(sme)] == ["Bob"]
        assert incident.new_entries[-1].body == "Alice is no longer Subject Matter Expert"

    def test_assigning_the_holder_again_is_no_change(self) -> None:
        incident = declare()
        incident.assign_role(Role.SCRIBE, PersonRef(1, "Alice"), ALICE, later(1))
        with pytest.raises(NoChange, match="already Scribe"):
            incident.assign_role(Role.SCRIBE, PersonRef(1, "Alice"), ALICE, later(2))

    def test_relieving_an_empty_role_is_no_change(self) -> None:
        with pytest.raises(NoChange, match="nobody is Technical Lead"):
            declare().relieve_role(Role.TECHNICAL_LEAD, None, ALICE, later(1))

    @pytest.mark.parametrize(
        ("raw", "role"),
        [
            ("ic", Role.INCIDENT_COMMANDER),
            ("Technical Lead", Role.TECHNICAL_LEAD),
            ("sme", Role.SUBJECT_MATTER_EXPERT),
        ],
    )
    def test_role_names_and_abbreviations(self, raw: str, role: Role) -> None:
        assert Role.parse(raw) is role


class TestTimestamps:
    def test_person_entered_time_keeps_provenance(self) -> None:
        incident = declare()
        incident.set_timestamp(Milestone.ACKNOWLEDGED, later(4), Actor("Bob", 2), later(6))
        stamp = incident.stamps[Milestone.ACKNOWLEDGED]
        assert (stamp.value, stamp.source, stamp.set_by, stamp.recorded_at) == (
            later(4),
            Source.PERSON,
            "Bob",
            later(6),
        )
        assert (
            incident.new_entries[-1].body
            == "acknowledged_at set to 2026-11-26T03:04:00Z (was unset)"
        )

    def test_out_of_order_is_refused_and_nothing_changes(self) -> None:
        incident = declare()
        incident.change_status(Status.RESOLVED, ALICE, later(30))
        with pytest.raises(ChronologyViolation) as err:
            incident.set_timestamp(Milestone.MITIGATED, later(40), ALICE, later(41))
        assert (
            "mitigated_at (2026-11-26T03:40:00Z) must not be later than resolved_at"
            in err.value.detail
        )
        assert incident.stamp(Milestone.MITIGATED) == later(30)

    def test_future_is_refused(self) -> None:
        with pytest.raises(ChronologyViolation, match="in the future"):
            declare().set_timestamp(Milestone.ACKNOWLEDGED, later(60), ALICE, later(1))

    def test_offsets_are_normalised_to_utc(self) -> None:
        incident = declare()
        local = datetime.fromisoformat("2026-11-26T04:02:00+01:00")
        incident.set_timestamp(Milestone.ACKNOWLEDGED, local, ALICE, later(5))
        assert incident.stamp(Milestone.ACKNOWLEDGED) == later(2)
        assert incident.stamp(Milestone.ACKNOWLEDGED).tzinfo is UTC  # type: ignore[union-attr]


class TestTimelineAndDetails:
    def test_notes_get_increasing_sequence_numbers(self) -> None:
        incident = declare()
        first = incident.add_note(EntryKind.OBSERVATION, "errors at 40%", ALICE, later(1))
        second = incident.add_note(
            EntryKind.DECISION, "roll back", ALICE, later(2), occurred_at=later(1)
        )
        assert (first.seq, second.seq) == (2, 3)
        assert second.occurred_at == later(1)
        assert second.recorded_at == later(2)

    def test_a_correction_points_at_the_original(self) -> None:
        incident = declare()
        original = incident.add_note(EntryKind.OBSERVATION, "errors at 40%", ALICE, later(1))
        fix = incident.add_note(
            EntryKind.OBSERVATION, "errors at 4%", ALICE, later(2), corrects=original
        )
        assert fix.corrects_seq == original.seq
        assert original.body == "errors at 40%", "the original is never rewritten"

    def test_people_cannot_write_system_entries(self) -> None:
        with pytest.raises(InvalidInput, match="written by Tocsin only"):
            declare().add_note(EntryKind.STATUS_CHANGED, "fake", ALICE, later(1))

    def test_key_moment_flag_changes_but_not_the_text(self) -> None:
        incident = declare()
        entry = incident.add_note(EntryKind.DECISION, "roll back", ALICE, later(1))
        incident.mark_key_moment(entry, True, ALICE, later(2))
        assert (entry.key_moment, entry.key_moment_by, entry.key_moment_at) == (
            True,
            "Alice",
            later(2),
        )
        with pytest.raises(NoChange, match="already a key moment"):
            incident.mark_key_moment(entry, True, ALICE, later(3))
        incident.mark_key_moment(entry, False, ALICE, later(4))
        assert entry.key_moment is False

    def test_update_lists_each_change(self) -> None:
        incident = declare()
        changed = incident.update_details(
            ALICE, later(1), customer_facing=True, title="Checkout down in EU", summary="x"
        )
        assert changed == ["customer_facing", "summary", "title"]
        assert incident.new_entries[-1].body == (
            "Updated title: 'Checkout down' → 'Checkout down in EU'; summary: (empty) → 'x'; "
            "customer facing: no → yes"
        )

    def test_update_with_nothing_different_is_no_change(self) -> None:
        with pytest.raises(NoChange):
            declare().update_details(ALICE, later(1), title="Checkout down")

    @pytest.mark.parametrize(("raw", "number"), [("42", 42), ("INC-42", 42), ("inc-7", 7)])
    def test_references(self, raw: str, number: int) -> None:
        assert parse_reference(raw) == number

    @pytest.mark.parametrize("raw", ["", "INC-", "INC-x", "0", "-3"])
    def test_bad_references(self, raw: str) -> None:
        with pytest.raises(NotFound):
            parse_reference(raw)
