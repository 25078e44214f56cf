"""Hypothesis strategies for DPM codec messages, shared by the codec property tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from pacsys_dpm.codec.schema import Kind, spec_of

INT_RANGES = {"int16": 16, "int32": 32, "int64": 64}
latin1_text = st.text(st.characters(max_codepoint=0xFF), max_size=150)
int64s = st.integers(-(1 << 63), (1 << 63) - 1)
micros = st.integers(1_600_000_000_000_000, 1_800_000_000_000_000)  # same width: bulk path


def int_strategy(bits: int) -> st.SearchStrategy[int]:
    """Signed integers of ``bits``, with the width and range edges drawn often."""
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    edges = st.sampled_from([low, high, -129, -128, 127, 128, 0, -1, 255, 256, -32769])
    return st.integers(low, high) | edges.filter(lambda v: low <= v <= high)


def value_strategy(kind: Kind) -> st.SearchStrategy[Any]:
    """Values of one wire kind, including every edge the encoding has."""
    if kind.element is not None:
        return st.lists(struct_strategy(kind.element), max_size=4)
    if kind.name in INT_RANGES:
        return int_strategy(INT_RANGES[kind.name])
    simple: dict[str, st.SearchStrategy[Any]] = {
        "double": st.floats(),
        "bool": st.booleans(),
        "string": latin1_text,
        "binary": st.binary(max_size=300),
        "array<double>": st.lists(st.floats(), max_size=140),
        "array<int64>": st.lists(int_strategy(64), max_size=20) | st.lists(micros, max_size=140),
        "array<string>": st.lists(latin1_text, max_size=8),
    }
    return simple[kind.name]


def struct_strategy(cls: type) -> st.SearchStrategy[Any]:
    """Messages of class ``cls``, each field (or None, when optional) from its wire kind."""
    kwargs = {
        f.attr: (st.none() | value_strategy(f.kind)) if f.optional else value_strategy(f.kind)
        for f in spec_of(cls).fields
    }
    return st.builds(cls, **kwargs)
