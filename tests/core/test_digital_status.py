"""DigitalStatus / StatusBit: every constructor, attribute inference, lookup and display."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacsys.digital_status import DigitalStatus, StatusBit
from pacsys.types import Reading, ValueType

EXAMPLE_NAMES = ["On", "Ready", "", "Polarity", "", "Ramp/DC"]
EXAMPLE_VALUES = ["No", "Yes", "", "Minus", "x", "DC"]
EXAMPLE_TEXT = (
    "Z:ACLTST status=0x02\n"
    "  On:       No\n"
    "  Ready:    Yes\n"
    "  Polarity: Minus\n"
    "  :         x\n"
    "  Ramp/DC:  DC"
)


@pytest.fixture
def example() -> DigitalStatus:
    return DigitalStatus.from_bit_arrays("Z:ACLTST", 0x02, EXAMPLE_NAMES, EXAMPLE_VALUES)


# --- from_bit_arrays ----------------------------------------------------------------------


def test_example_entries(example: DigitalStatus) -> None:
    assert example.device == "Z:ACLTST"
    assert example.raw_value == 2
    assert example.bits == (
        StatusBit(0, "On", "No", False),
        StatusBit(1, "Ready", "Yes", True),
        StatusBit(3, "Polarity", "Minus", False),
        StatusBit(4, "", "x", False),
        StatusBit(5, "Ramp/DC", "DC", False),
    )


def test_example_attributes(example: DigitalStatus) -> None:
    assert (example.on, example.ready, example.remote, example.positive, example.ramp) == (
        False,
        True,
        None,
        False,
        False,
    )


def test_example_str_is_exact(example: DigitalStatus) -> None:
    assert str(example) == EXAMPLE_TEXT


def test_bit_arrays_of_unequal_length_pad_with_empty_text() -> None:
    status = DigitalStatus.from_bit_arrays("T:X", 0b11, ["A"], ["a", "b", "", "d"])
    assert [(b.position, b.name, b.value, b.is_set) for b in status] == [
        (0, "A", "a", True),
        (1, "", "b", True),
        (3, "", "d", False),
    ]


def test_bit_arrays_name_without_value_is_kept() -> None:
    status = DigitalStatus.from_bit_arrays("T:X", 0, ["", "Named"], [])
    assert [(b.position, b.name, b.value) for b in status] == [(1, "Named", "")]


@settings(max_examples=200, deadline=None)
@given(
    raw=st.integers(min_value=0, max_value=2**32 - 1),
    names=st.lists(st.text(max_size=6), max_size=32),
)
def test_bit_arrays_is_set_follows_raw_word(raw: int, names: list[str]) -> None:
    values = [f"v{i}" for i in range(len(names))]
    status = DigitalStatus.from_bit_arrays("T:X", raw, names, values)
    assert [b.position for b in status] == list(range(len(names)))
    assert all(b.is_set == bool(raw >> b.position & 1) for b in status)


# --- attribute inference ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "attribute"),
    [
        ("On", "on"),
        ("On/Off", "on"),
        ("ONOFF", "on"),
        ("PWR", "on"),
        ("Power", "on"),
        ("Ready", "ready"),
        ("Ready/Tripped", "ready"),
        ("Ready???", "ready"),
        ("Sts", "ready"),
        ("Status", "ready"),
        ("Remote", "remote"),
        ("Remote/Local", "remote"),
        ("Ctrl", "remote"),
        ("Control", "remote"),
        ("Positive", "positive"),
        ("Polarity", "positive"),
        ("Pol", "positive"),
        ("Ramp", "ramp"),
        ("Ramp/DC", "ramp"),
        ("RampDC", "ramp"),
        ("Ref", "ramp"),
        ("Reference", "ramp"),
    ],
)
def test_synonyms_set_attribute(name: str, attribute: str) -> None:
    set_ = DigitalStatus.from_bit_arrays("T:X", 1, [name], ["v"])
    clear = DigitalStatus.from_bit_arrays("T:X", 0, [name], ["v"])
    assert getattr(set_, attribute) is True
    assert getattr(clear, attribute) is False
    others = {"on", "ready", "remote", "positive", "ramp"} - {attribute}
    assert all(getattr(set_, other) is None for other in others)


@pytest.mark.parametrize("name", ["Henk On/Off", "FooBar", "Onn", "Power supply", "Rampe"])
def test_non_matching_names_leave_attributes_unset(name: str) -> None:
    status = DigitalStatus.from_bit_arrays("T:X", 1, [name], ["v"])
    assert (status.on, status.ready, status.remote, status.positive, status.ramp) == (None,) * 5


def test_later_entry_overrides_earlier_one() -> None:
    status = DigitalStatus.from_bit_arrays("T:X", 0b01, ["On", "Power"], ["a", "b"])
    assert status.on is False


# --- from_status_dict ---------------------------------------------------------------------


def test_status_dict_bool_style_uses_fixed_positions() -> None:
    status = DigitalStatus.from_status_dict(
        "Z:TEST", {"ready": True, "ramp": False, "positive": True, "other": True}
    )
    assert status.bits == (
        StatusBit(1, "Ready", "True", True),
        StatusBit(3, "Positive", "True", True),
        StatusBit(4, "Ramp", "False", False),
    )
    assert (status.on, status.ready, status.remote, status.positive, status.ramp) == (
        None,
        True,
        None,
        True,
        False,
    )
    assert status.raw_value == 0b1010


def test_status_dict_bool_style_all_five() -> None:
    flags = {"on": True, "ready": True, "remote": False, "positive": True, "ramp": False}
    status = DigitalStatus.from_status_dict("Z:TEST", flags)
    assert [b.name for b in status] == ["On", "Ready", "Remote", "Positive", "Ramp"]
    assert status.raw_value == 0b01011
    assert status.remote is False


def test_status_dict_text_style_entries_in_insertion_order() -> None:
    status = DigitalStatus.from_status_dict(
        "Z:TEST", {"On": "No", "Ready": "Yes", "Polarity": "Minus", "Ramp/DC": "Ramp"}
    )
    assert status.bits == (
        StatusBit(0, "On", "No", False),
        StatusBit(1, "Ready", "Yes", True),
        StatusBit(2, "Polarity", "Minus", False),
        StatusBit(3, "Ramp/DC", "Ramp", True),
    )
    assert (status.on, status.ready, status.positive, status.ramp) == (False, True, False, True)
    assert status.remote is None
    assert status.raw_value == 0b1010


@pytest.mark.parametrize(
    "text",
    ["no", "No", " OFF ", "false", "Tripped", "trip", "Local", "negative", "MINUS", "dc", "0", ""],
)
def test_text_meaning_not_set(text: str) -> None:
    assert DigitalStatus.from_status_dict("T:X", {"Bit": text}).bits[0].is_set is False


@pytest.mark.parametrize("text", ["Yes", "On", "Remote", "Plus", "Ramp", "1", "x", "nope"])
def test_text_meaning_set(text: str) -> None:
    assert DigitalStatus.from_status_dict("T:X", {"Bit": text}).bits[0].is_set is True


def test_status_dict_raw_value_passthrough() -> None:
    assert DigitalStatus.from_status_dict("T:X", {"on": True}, raw_value=0xAB).raw_value == 0xAB
    assert DigitalStatus.from_status_dict("T:X", {"On": "Yes"}, raw_value=0).raw_value == 0


def test_status_dict_empty() -> None:
    status = DigitalStatus.from_status_dict("T:X", {})
    assert (len(status), status.raw_value, status.on) == (0, 0, None)
    assert str(status) == "T:X status=0x00"


# --- from_devdb_bits ----------------------------------------------------------------------


def bit_def(mask: int, match: int, name: str, *, invert: bool = False) -> SimpleNamespace:
    return SimpleNamespace(
        mask=mask,
        match=match,
        invert=invert,
        short_name=name,
        long_name=f"{name} long",
        true_str=f"{name}+",
        false_str=f"{name}-",
    )


def ext_def(bit_no: int, description: str) -> SimpleNamespace:
    return SimpleNamespace(bit_no=bit_no, description=description, name0="zero", name1="one")


def test_devdb_mask_match_and_position() -> None:
    defs = [bit_def(0b100, 0b100, "Ready"), bit_def(0b11000, 0b01000, "Mode"), bit_def(1, 1, "On")]
    status = DigitalStatus.from_devdb_bits("Z:X", 0b01101, defs)
    assert status.bits == (
        StatusBit(0, "On", "On+", True),
        StatusBit(2, "Ready", "Ready+", True),
        StatusBit(3, "Mode", "Mode+", True),
    )
    assert (status.on, status.ready) == (True, True)


def test_devdb_invert_inverts_the_word_before_masking() -> None:
    defs = [bit_def(0b10, 0b10, "Remote", invert=True)]
    assert DigitalStatus.from_devdb_bits("Z:X", 0b00, defs).bits[0].is_set is True
    assert DigitalStatus.from_devdb_bits("Z:X", 0b10, defs).remote is False


def test_devdb_zero_mask_uses_definition_index() -> None:
    defs = [bit_def(1, 0, "A"), bit_def(0, 0, "B")]
    status = DigitalStatus.from_devdb_bits("Z:X", 1, defs)
    assert [(b.position, b.name, b.value, b.is_set) for b in status] == [
        (0, "A", "A-", False),
        (1, "B", "B+", True),
    ]


def test_devdb_extended_bits_fill_uncovered_positions_sorted() -> None:
    defs = [bit_def(0b10, 0b10, "Ready")]
    ext = [ext_def(5, "Interlock"), ext_def(1, "ignored"), ext_def(0, "")]
    status = DigitalStatus.from_devdb_bits("Z:X", 0b100011, defs, ext)
    assert status.bits == (
        StatusBit(0, "bit0", "one", True),
        StatusBit(1, "Ready", "Ready+", True),
        StatusBit(5, "Interlock", "one", True),
    )
    assert status.raw_value == 0b100011


def test_devdb_extended_only() -> None:
    status = DigitalStatus.from_devdb_bits("Z:X", 0, [], [ext_def(2, "Power")])
    assert status.bits == (StatusBit(2, "Power", "zero", False),)
    assert status.on is False


# --- from_reading -------------------------------------------------------------------------


def test_from_reading_uses_reading_name() -> None:
    reading = Reading(
        drf="z|acltst", value_type=ValueType.BASIC_STATUS, value={"on": True, "ready": False}
    )
    status = DigitalStatus.from_reading(reading)
    assert status.device == "Z:ACLTST"
    assert (status.on, status.ready, status.raw_value) == (True, False, 1)


def test_from_reading_text_style() -> None:
    reading = Reading(drf="Z:ACLTST.STATUS", value_type=ValueType.BASIC_STATUS, value={"On": "Yes"})
    assert DigitalStatus.from_reading(reading).on is True


def test_from_reading_wrong_type() -> None:
    reading = Reading(drf="Z:ACLTST", value_type=ValueType.SCALAR, value=42.0)
    with pytest.raises(ValueError, match=r"^Expected BASIC_STATUS reading, got ValueType.SCALAR$"):
        DigitalStatus.from_reading(reading)


def test_from_reading_without_value() -> None:
    reading = Reading(drf="Z:ACLTST.STATUS", value_type=ValueType.BASIC_STATUS)
    with pytest.raises(ValueError, match=r"^Reading has no value$"):
        DigitalStatus.from_reading(reading)


# --- lookup and display -------------------------------------------------------------------


def test_lookup_by_name_is_case_insensitive(example: DigitalStatus) -> None:
    assert example["ready"] is example.bits[1]
    assert example["RAMP/dc"].position == 5


def test_lookup_by_position(example: DigitalStatus) -> None:
    assert example[3].name == "Polarity"
    assert example[4].value == "x"


def test_lookup_errors(example: DigitalStatus) -> None:
    with pytest.raises(KeyError) as missing_name:
        example["remote"]
    assert missing_name.value.args == ("No status bit named 'remote'",)
    with pytest.raises(IndexError, match=r"^No status bit at position 2$"):
        example[2]
    with pytest.raises(TypeError, match=r"^Key must be str or int, got float$"):
        example[1.0]  # type: ignore[index]


def test_get_contains_iter_len_to_dict(example: DigitalStatus) -> None:
    assert example.get("Ready") is example.bits[1]
    assert example.get("nothing") is None
    assert example.get(9, "fallback") == "fallback"  # type: ignore[arg-type]
    assert "polarity" in example
    assert 5 in example
    assert 2 not in example
    assert "Remote" not in example
    assert 1.5 not in example
    assert list(example) == list(example.bits)
    assert len(example) == 5
    assert example.to_dict() == {
        "On": "No",
        "Ready": "Yes",
        "Polarity": "Minus",
        "": "x",
        "Ramp/DC": "DC",
    }


@pytest.mark.parametrize(
    ("raw", "header"),
    [
        (0, "T:X status=0x00"),
        (0x1FF, "T:X status=0x1FF"),
        (-5, "T:X status=-0x05"),
        (10, "T:X status=0x0A"),
    ],
)
def test_str_header(raw: int, header: str) -> None:
    status = DigitalStatus.from_bit_arrays("T:X", raw, ["Long name", "A"], ["v1", "v2"])
    lines = str(status).split("\n")
    assert lines[0] == header
    assert lines[1:] == ["  Long name: v1", "  A:         v2"]


def test_status_bit_truthiness_and_immutability() -> None:
    assert bool(StatusBit(0, "On", "Yes", True)) is True
    assert bool(StatusBit(0, "On", "No", False)) is False
    status = DigitalStatus.from_bit_arrays("T:X", 1, ["On"], ["Yes"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.on = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.bits[0].is_set = False  # type: ignore[misc]
