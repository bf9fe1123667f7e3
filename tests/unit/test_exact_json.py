"""The exact JSON readers: numbers as Decimal, over-long numbers unusable, both paths alike."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clozapine import evaluate, evaluation_to_json, policy_in_force
from fhir_client.json_body import decode_body, encode_body
from fhir_mappings import JsonReadError, patient_facts_from_bundle, read_json
from fhir_mappings.exact_json import read_json_with_stdlib
from tests.unit.cases import AS_OF
from tests.unit.test_engine_properties import bundles


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.49949999999999999999", Decimal("1.49949999999999999999")),
        ("12", 12),
        ("-0", 0),
        ("1e5", Decimal("1E+5")),
        ("1" * 100, int("1" * 100)),
        ("1." + "0" * 98, Decimal("1." + "0" * 98)),
    ],
)
def test_read_json_numbers_are_exact(text, expected):
    [value] = read_json(f"[{text}]")
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    "text",
    ["1." + "0" * 99, "0." + "0" * 98 + "1", "9" * 5000, "-" + "9" * 4400, "NaN", "-Infinity"],
)
def test_read_json_over_long_numbers_and_constants_read_as_nan(text):
    [value] = read_json(f"[{text}]")
    assert isinstance(value, Decimal) and value.is_nan()


@pytest.mark.parametrize("text", ["{", "[1,]", "", "[01]", b'["\xff"]', "[" * 50_000])
def test_read_json_refuses_what_is_not_json(text):
    with pytest.raises(JsonReadError):
        read_json(text)


def test_read_json_accepts_bytes_and_text_alike():
    assert read_json(b'{"a": [1.5, "\xc3\xa9"]}') == read_json('{"a": [1.5, "\u00e9"]}')


def test_client_encodes_decimals_as_the_numbers_they_hold():
    body = encode_body({"value": Decimal("1.49949999999999999999"), "n": 3})
    assert body == b'{"value":1.49949999999999999999,"n":3}'
    assert decode_body(body) == {"value": Decimal("1.49949999999999999999"), "n": 3}
    with pytest.raises(ValueError, match="cannot be written"):
        encode_body({"value": Decimal("NaN")})


NUMBER_TEXT = st.one_of(
    st.from_regex(
        r"-?(0|[1-9][0-9]{0,110})(\.[0-9]{1,110})?([eE][+-]?[0-9]{1,4})?", fullmatch=True
    ),
    st.integers(4290, 4310).map(lambda digits: "7" * digits),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999999999", "-0.0"]),
)
KEYS = st.text(max_size=4)


def json_text() -> st.SearchStrategy[str]:
    strings = st.text(max_size=6).map(json.dumps) | st.just('"\\ud800"')
    leaves = NUMBER_TEXT | strings | st.sampled_from(["true", "false", "null"])
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")
            | st.lists(st.tuples(KEYS, inner), max_size=4).map(
                lambda pairs: "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"
            )
        ),
        max_leaves=20,
    )


def canonical(value: Any) -> str:
    """A comparable form: NaN equals NaN, Decimal and int kept apart, order kept."""
    return repr(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=json_text())
def test_both_reading_paths_and_the_client_give_the_same_tree(text):
    expected = canonical(read_json_with_stdlib(text))
    assert canonical(read_json(text)) == expected
    assert canonical(read_json(text.encode("utf-8", "surrogatepass"))) == expected
    assert canonical(decode_body(text)) == expected


VALUE = re.compile(r'"value": (-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)')
SPELLINGS = {
    "plain": lambda number: f'"value": {number}',
    "exponent": lambda number: f'"value": {number}' + ("" if "e" in number.lower() else "E0"),
    "string": lambda number: f'"value": "{number}"',
}


def facts_of(document: Any) -> list[Any]:
    return [
        (facts, evaluation_to_json(evaluate(facts, AS_OF, policy_in_force(AS_OF))))
        for facts in patient_facts_from_bundle(document)
    ]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundle=bundles(), spelling=st.sampled_from(["plain", "exponent", "string"]))
def test_both_reading_paths_give_identical_facts(bundle, spelling):
    text = VALUE.sub(lambda match: SPELLINGS[spelling](match[1]), json.dumps(bundle))
    expected = facts_of(read_json_with_stdlib(text))
    assert facts_of(read_json(text)) == expected
    assert facts_of(decode_body(text)) == expected
