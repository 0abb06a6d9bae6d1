"""Property tests for the CSV number parsing (thousands separators, negatives, blanks)."""
from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from tariffscope.ingest.numbers import NumberFormatError, parse_number, parse_numbers

ints = st.integers(min_value=-(10**15), max_value=10**15)


@given(ints)
def test_thousands_separators_round_trip(n):
    assert parse_number(f"{n:,}") == float(n)
    assert parse_number(f"{n}") == float(n)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=99))
def test_decimals_and_accounting_negatives(n, cents):
    text = f"{n:,}.{cents:02d}"
    value = float(f"{n}.{cents:02d}")
    assert parse_number(text) == value
    assert parse_number(f"({text})") == -value
    assert parse_number(f"  -{text} ") == -value


@given(st.sampled_from(["", " ", "\t"]))
def test_blanks_are_missing_not_zero(text):
    assert parse_number(text) is None
    assert parse_numbers(pa.array([text, "1"])).to_pylist() == [None, 1.0]


@given(st.integers(min_value=1000, max_value=10**9))
def test_misplaced_separators_are_rejected(n):
    digits = str(n)
    bad = digits[:-2] + "," + digits[-2:]  # a comma two digits from the end: 12345 -> 123,45
    with pytest.raises(NumberFormatError):
        parse_number(bad)


@settings(max_examples=50)
@given(st.lists(st.one_of(ints.map(lambda n: f"{n:,}"), st.just(""), ints.map(str)), min_size=1, max_size=30))
def test_vectorized_agrees_with_scalar(cells):
    assert parse_numbers(pa.array(cells)).to_pylist() == [parse_number(c) for c in cells]


@given(st.text(alphabet="0123456789,.-()eE x", min_size=1, max_size=12))
def test_vectorized_and_scalar_agree_on_rejection(text):
    try:
        expected = parse_number(text)
    except NumberFormatError:
        with pytest.raises(NumberFormatError) as ei:
            parse_numbers(pa.array(["1", text]))
        assert ei.value.index == 1
    else:
        got = parse_numbers(pa.array([text])).to_pylist()[0]
        assert got == expected or (got is not None and abs(got - expected) <= 1e-9 * abs(expected))


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1.234,5", "1 234", "12a", "--3", "(-3)", "0x10"])
def test_not_numbers(text):
    with pytest.raises(NumberFormatError):
        parse_number(text)
    with pytest.raises(NumberFormatError):
        parse_numbers(pa.array([text]))
