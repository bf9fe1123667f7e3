"""The one exact JSON reader for FHIR and registry text: numbers as Decimal, never a float.

Rulings ("Exact numbers", evaluation-contract.md): values are exact decimals, and a number
written with more than 100 characters is unusable rather than an error. msgspec decodes with
every non-integer number handed over as written (`float_hook`), so 1.49949999999999999999 stays
that number. Integers stay int (a mapping reads one written with more than 100 characters as
unusable; see `fhir_json.number`). What msgspec refuses but Python's own parser takes (an integer
of more than 4,300 digits, NaN, a lone surrogate) is read again by `json` with the same hooks,
so both give the same tree wherever both read a text.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec

# A number written with more than this many characters is unusable (contract, "Exact numbers").
MAX_NUMBER_CHARACTERS = 100
# What an unusable number reads as: a Decimal that is no number, which every reader skips.
UNREADABLE_NUMBER = Decimal("NaN")
# Python refuses to make an int of more digits than this (sys.get_int_max_str_digits).
_INT_DIGITS_LIMIT = 4300


class JsonReadError(ValueError):
    """The text is not JSON (or not UTF-8); the message says where, in one line."""


def exact_decimal(written: str) -> Decimal:
    """A JSON number as written, as a Decimal (NaN, so unusable, past 100 characters)."""
    if len(written) > MAX_NUMBER_CHARACTERS:
        return UNREADABLE_NUMBER
    return Decimal(written)


def _integer(written: str) -> int | Decimal:
    # Same tree as msgspec's (an int) up to Python's own limit; past it, unusable.
    digits = len(written) - written.startswith("-")
    return UNREADABLE_NUMBER if digits > _INT_DIGITS_LIMIT else int(written)


def _constant(written: str) -> Decimal:
    return UNREADABLE_NUMBER  # NaN, Infinity, -Infinity: not JSON, and no count


_DECODER = msgspec.json.Decoder(float_hook=exact_decimal)


def read_json(text: str | bytes) -> Any:
    """The JSON value of `text`, numbers exact; JsonReadError when it is not JSON."""
    try:
        return _DECODER.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeError):
        return read_json_with_stdlib(text)
    except RecursionError:
        raise JsonReadError("nested too deeply") from None


def read_json_with_stdlib(text: str | bytes) -> Any:
    """The same reading by Python's `json` (the fallback; public so tests can compare the two)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise JsonReadError(f"not UTF-8 text (byte {error.start})") from None
    try:
        return json.loads(
            text, parse_float=exact_decimal, parse_int=_integer, parse_constant=_constant
        )
    except json.JSONDecodeError as error:
        raise JsonReadError(str(error)) from None
    except RecursionError:
        raise JsonReadError("nested too deeply") from None
