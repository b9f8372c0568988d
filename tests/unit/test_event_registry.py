"""The event registry: every kind declared once, with a payload and a sentence
of its own, and no kind emitted that is not declared."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from storyline.domain import events as ev
from storyline.domain import payloads as p
from tests.event_samples import PLAIN, Sample, WorldNames, samples

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "storyline"
SAMPLES = {sample.event_type: sample for sample in samples(PLAIN)}


def test_every_kind_has_one_sample() -> None:
    assert len(SAMPLES) == len(samples(PLAIN))
    assert set(SAMPLES) == set(ev.REGISTRY)


def test_every_name_the_module_exports_is_registered() -> None:
    names = {
        value
        for key, value in vars(ev).items()
        if key.isupper() and isinstance(value, str) and value not in ev.SUBJECTS
    }
    assert names == ev.ALL == set(ev.REGISTRY)
    assert all(kind.name == name for name, kind in ev.REGISTRY.items())


def test_storyboard_names_are_the_twenty_two_storyboard_had() -> None:
    # StoryBoard's `event_type` enum had 22 values; Storyline adds its own
    # beside them and never renames one (clients filter on the names).
    assert len([k for k in ev.REGISTRY.values() if k.storyboard]) == 22
    assert {k.name for k in ev.REGISTRY.values() if not k.storyboard} == {
        ev.STORY_PRIVACY_CHANGED,
        ev.COMMENT_EDITED,
        ev.STORY_LINK_ADDED,
        ev.STORY_LINK_REMOVED,
        ev.FREEZE_EXCEPTION_REQUESTED,
        ev.FREEZE_EXCEPTION_WITHDRAWN,
        ev.FREEZE_EXCEPTION_COMMENTED,
        ev.FREEZE_EXCEPTION_DECIDED,
        ev.FREEZE_EXCEPTION_DEFERRED,
    }


@pytest.mark.parametrize("name", sorted(ev.REGISTRY))
def test_sample_fits_its_declaration_and_has_a_sentence_of_its_own(name: str) -> None:
    sample: Sample = SAMPLES[name]
    kind = ev.REGISTRY[name]
    ev.check(name, sample.info)
    assert isinstance(sample.payload, kind.payload)
    sentence = sample.sentence(PLAIN)
    assert sample.says in sentence
    # Not the text said for a payload that can't be read, nor the name.
    assert sentence != kind.fallback or sample.says == kind.fallback
    assert sentence != name.replace("_", " ")
    assert kind.label
    assert kind.fallback
    # The document round-trips through its class.
    assert kind.payload.from_info(sample.info).to_info() == (sample.info or {})


# A payload without keys (a comment's) always fits.
@pytest.mark.parametrize("name", sorted(n for n, k in ev.REGISTRY.items() if k.payload.keys()))
def test_a_payload_that_does_not_fit_is_told_with_the_fallback(name: str) -> None:
    kind = ev.REGISTRY[name]
    broken = {key: object() for key in sorted(kind.payload.keys())}
    assert kind.describe(broken, WorldNames(PLAIN)) == kind.fallback


def test_worklist_and_board_payloads_name_their_object() -> None:
    # Feed rows keep only story_id; email finds a worklist or board by this key.
    for kind in ev.REGISTRY.values():
        if kind.subject != ev.STORY:
            assert f"{kind.subject}_id" in set(kind.payload.keys()), kind.name


def test_check_refuses_unknown_kinds_and_payloads_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="unknown event type 'story_exploded'"):
        ev.check("story_exploded", {})
    with pytest.raises(p.PayloadError, match="missing key 'task_title'"):
        ev.check(ev.TASK_CREATED, {"task_id": 1, "project_id": 2})
    with pytest.raises(p.PayloadError, match="unexpected key 'colour'"):
        ev.check(ev.STORY_CREATED, {"story_id": 1, "story_title": "t", "colour": "red"})
    with pytest.raises(p.PayloadError, match="'new_assignee_id' holds 'bob'"):
        ev.check(
            ev.TASK_ASSIGNEE_CHANGED,
            {"task_id": 1, "task_title": "t", "old_assignee_id": None, "new_assignee_id": "bob"},
        )


def test_keys_without_a_default_stay_in_the_document_when_none() -> None:
    unassigned = p.TaskAssigneeChanged(
        task_id=1, task_title="t", old_assignee_id=3, new_assignee_id=None
    )
    assert unassigned.to_info()["new_assignee_id"] is None
    removal = p.WorklistContentsChanged(worklist_id=1, removed={"item_id": 2})
    assert removal.to_info() == {"worklist_id": 1, "removed": {"item_id": 2}}


def test_an_unknown_kind_has_no_sentence() -> None:
    # A row written by a newer version: the callers show its name.
    assert ev.describe("story_exploded", {}, WorldNames(PLAIN)) is None


# Grep-proof: the code emits only registered kinds, by their constants.


def _event_aliases(tree: ast.Module) -> set[str]:
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "storyline.domain":
            aliases |= {a.asname or a.name for a in node.names if a.name == "events"}
        elif isinstance(node, ast.Import):
            aliases |= {
                a.asname for a in node.names if a.name == "storyline.domain.events" and a.asname
            }
    return aliases


def _sources() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if "migrations" not in path.parts]


def test_the_code_names_event_kinds_only_through_the_registry() -> None:
    offences = []
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        aliases = _event_aliases(tree)
        for node in ast.walk(tree):
            # events.SOMETHING must be a registered kind or a registry name.
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.isupper()
            ):
                value = getattr(ev, node.attr, None)
                if value is None:
                    offences.append(f"{path.name}: {node.attr} is not in the registry")
            # A kind is never spelled as a string where an event is recorded.
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if (
                        keyword.arg == "event_type"
                        and isinstance(keyword.value, ast.Constant)
                        and path.parent.name != "accounts"  # the audit log's own kinds
                    ):
                        offences.append(f"{path.name}:{node.lineno}: {keyword.value.value!r}")
    assert offences == []


def test_services_record_only_through_the_timeline() -> None:
    # Events reach the table only through timeline.record, which checks the
    # kind and payload (the demo loader writes rows in bulk: the kinds it
    # writes are registered constants, checked above).
    writers = []
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        imports_event = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "storyline.kernel.models"
            and any(alias.name == "Event" for alias in node.names)
            for node in ast.walk(tree)
        )
        builds_event = any(
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Event"
            for node in ast.walk(tree)
        )
        if imports_event and builds_event:
            writers.append(path.relative_to(PACKAGE).as_posix())
    assert writers == ["kernel/timeline.py"]
