"""Exact JSON for FHIR bodies: responses decoded with numbers as Decimal, requests encoded alike.

A lab value must reach the mappings as written (1.49949999999999999999 is 1499/uL, not a float
that rounds to 1500), so no body is decoded through a binary float. This client knows FHIR, not
the app, and imports none of its packages: the reading rules are those of
`fhir_mappings.read_json` (a property test checks both give the same tree): msgspec with
non-integers as Decimal, a number written with more than 100 characters as Decimal NaN (which
the mappings read as unusable), and Python's `json` for what msgspec refuses.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec

_MAX_NUMBER_CHARACTERS = 100
_INT_DIGITS_LIMIT = 4300  # Python's own limit for int() from text
_UNREADABLE = Decimal("NaN")


def _decimal(written: str) -> Decimal:
    return _UNREADABLE if len(written) > _MAX_NUMBER_CHARACTERS else Decimal(written)


def _integer(written: str) -> int | Decimal:
    digits = len(written) - written.startswith("-")
    return _UNREADABLE if digits > _INT_DIGITS_LIMIT else int(written)


def _constant(written: str) -> Decimal:
    return _UNREADABLE


_DECODER = msgspec.json.Decoder(float_hook=_decimal)
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def decode_body(content: bytes | str) -> Any:
    """The JSON value of a response body, numbers exact; ValueError when it is not JSON."""
    try:
        return _DECODER.decode(content)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeError):
        pass
    except RecursionError:
        raise ValueError("the body is nested too deeply") from None
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    try:
        return json.loads(text, parse_float=_decimal, parse_int=_integer, parse_constant=_constant)
    except RecursionError:
        raise ValueError("the body is nested too deeply") from None


def encode_body(resource: Any) -> bytes:
    """A resource as JSON bytes; Decimals written as the numbers they hold.

    ValueError for a value JSON cannot hold (a NaN read from an unusable number).
    """
    try:
        return _ENCODER.encode(resource)
    except (msgspec.EncodeError, ValueError) as error:
        raise ValueError(f"the resource cannot be written as JSON: {error}") from None
