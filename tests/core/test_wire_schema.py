"""Core wire-struct schema (pacsys.wire): descriptors, declaration, layout, message tables.

The byte-level behaviour is covered by the DPM and DMQ conformance vectors; here the engine
itself: both declaration styles give one layout, and bad declarations fail naming the field.
"""

from __future__ import annotations

import attrs
import pytest

from pacsys.wire import (
    METADATA_KEY,
    FrozenInstanceError,
    MessageTable,
    Struct,
    WireField,
    declared_fields,
    layout_of,
    struct,
    wire_field,
)

IDS = {"refId": 10, "value": 11, "note": 12}


@struct
class Frozen(Struct):
    ref_id: int = wire_field("int", wire_name="refId")
    value: float = wire_field("double", converter=float)
    note: str | None = wire_field("string", optional=True)


@attrs.frozen
class Attrs:
    ref_id: int = attrs.field(metadata={METADATA_KEY: WireField("int", field_id=10)})
    value: float = attrs.field(metadata={METADATA_KEY: WireField("double", field_id=11)})
    note: str | None = attrs.field(
        default=None, metadata={METADATA_KEY: WireField("string", field_id=12, optional=True)}
    )
    local: int = attrs.field(default=0)  # not on the wire


def test_both_declaration_styles_give_the_same_layout() -> None:
    frozen, declared = layout_of(Frozen, IDS), layout_of(Attrs)
    for a, b in zip(frozen.fields, declared.fields, strict=True):
        assert (a.attr, a.field_id, a.kind, a.optional) == (b.attr, b.field_id, b.kind, b.optional)
    assert [f.wire_name for f in frozen.fields] == ["refId", "value", "note"]
    assert (frozen.min_count, frozen.max_count, frozen.required_mask) == (4, 6, 0b011)
    assert [f.name for f in declared_fields(Attrs)] == ["ref_id", "value", "note"]


def test_layout_counts_and_missing_fields() -> None:
    layout = layout_of(Frozen, IDS)
    assert [layout.count_ok(n) for n in range(8)] == [False] * 4 + [True, False, True, False]
    assert layout.by_id[11].attr == "value"
    assert layout.missing(layout.by_id[11].bit) == ["refId"]
    assert layout.missing(layout.required_mask) == []


def test_frozen_struct_converts_compares_and_refuses_assignment() -> None:
    item = Frozen(1, 2)
    assert item == Frozen(ref_id=1, value=2.0, note=None)
    assert isinstance(item.value, float)
    assert hash(item) == hash(Frozen(1, 2.0))
    with pytest.raises(FrozenInstanceError, match="value"):
        item.value = 3.0  # type: ignore[misc]


def test_required_field_after_optional_is_refused() -> None:
    class Bad(Struct):
        first: int | None = wire_field("int", optional=True)
        second: int = wire_field("int")

    with pytest.raises(TypeError, match=r"Bad\.second: required field after an optional one"):
        struct(Bad)


def test_field_without_an_id_is_refused_naming_it() -> None:
    @struct
    class NoId(Struct):
        mystery: int = wire_field("int")

    with pytest.raises(TypeError, match=r"NoId\.mystery: no field id .* 'mystery'"):
        layout_of(NoId, IDS)


def test_two_fields_with_one_id_are_refused() -> None:
    @struct
    class Twice(Struct):
        a: int = wire_field("int", field_id=5)
        b: int = wire_field("int", field_id=5)

    with pytest.raises(TypeError, match="share wire id 5"):
        layout_of(Twice)


def test_bad_declarations_name_what_was_wrong() -> None:
    with pytest.raises(TypeError, match="field_id must be an int, got str"):
        WireField("int", field_id="7")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int declares no wire fields"):
        declared_fields(int)


def test_message_table_answers_both_lookups_and_refuses_reuse() -> None:
    table: MessageTable[type] = MessageTable("test reply")

    @table.register("Scalar", 7)
    class Scalar:
        pass

    assert table.named("Scalar") is Scalar and table.by_id[7] is Scalar
    assert list(table) == [Scalar] and len(table) == 1
    with pytest.raises(KeyError, match="no test reply named 'Nope'"):
        table.named("Nope")
    with pytest.raises(ValueError, match="test reply name 'Scalar' is already Scalar"):
        table.add(int, "Scalar", 8)
    with pytest.raises(ValueError, match="test reply id 7 is already Scalar"):
        table.add(int, "Other", 7)
