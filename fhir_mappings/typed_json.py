"""A Bundle decoded into msgspec Structs that declare only the fields the mapping reads.

Faster than a tree of dicts (no dict is built for `category`, `meta`, narrative and the other
elements nobody reads) and exactly as exact: every element declared `Any` is decoded as
`read_json` decodes it (the same `float_hook`), so numbers are Decimal or int, never float.
`decode_bundle` returns None whenever the typed decode refuses the text (an element of another
type than declared, a lone object where a list belongs, an integer Python cannot hold, text that
is not JSON): the caller then reads the text with `read_json` and maps the dicts as before.
"""

from __future__ import annotations

from typing import Any

import msgspec

from fhir_mappings.exact_json import exact_decimal
from fhir_mappings.fhir_json import FhirJson


class TypedCoding(msgspec.Struct, gc=False):
    """A Coding: the three elements the mapping reads."""

    system: str | None = None
    code: str | None = None
    display: str | None = None


class TypedConcept(msgspec.Struct, gc=False):
    """A CodeableConcept."""

    coding: list[TypedCoding] | None = None
    text: str | None = None

    def as_json(self) -> FhirJson:
        """The dict the lenient readers take, with the elements declared here."""
        concept: FhirJson = {}
        if self.coding is not None:
            concept["coding"] = [_coding_json(coding) for coding in self.coding]
        if self.text is not None:
            concept["text"] = self.text
        return concept


class TypedReference(msgspec.Struct, gc=False):
    """A Reference: its `reference`, the one element the mapping reads of a subject."""

    reference: Any = None

    def as_json(self) -> FhirJson:
        """The dict the lenient readers take."""
        return {"reference": self.reference}


class TypedQuantity(msgspec.Struct, gc=False):
    """A valueQuantity; `value` as `read_json` reads it (Decimal, int, or whatever was sent)."""

    value: Any = None
    comparator: Any = None
    unit: Any = None
    code: Any = None

    def as_json(self) -> FhirJson:
        """The dict the lenient readers take (a null element reads as an absent one there)."""
        return {
            "value": self.value,
            "comparator": self.comparator,
            "unit": self.unit,
            "code": self.code,
        }


class TypedResource(msgspec.Struct, gc=False):
    """Any resource, with every top-level element some reader of `fhir_mappings` reads.

    Only `code`, `subject` and `valueQuantity` (read once per Observation) are typed; the rest are decoded
    as plain JSON. `medicationCodeableConcept` is UNSET when absent: its presence decides.
    """

    resourceType: Any = None
    id: Any = None
    status: Any = None
    code: TypedConcept | None = None
    subject: TypedReference | None = None
    patient: Any = None
    effectiveDateTime: Any = None
    effectivePeriod: Any = None
    valueQuantity: TypedQuantity | None = None
    dataAbsentReason: Any = None
    clinicalStatus: Any = None
    verificationStatus: Any = None
    medicationCodeableConcept: Any = msgspec.UNSET
    medicationReference: Any = None
    authoredOn: Any = None
    dispenseRequest: Any = None
    dosageInstruction: Any = None
    requester: Any = None
    contained: Any = None
    ingredient: Any = None
    practitioner: Any = None

    def as_json(self) -> FhirJson:
        """The resource as the dict the lenient readers take: the declared elements that were set."""
        resource: FhirJson = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is msgspec.UNSET or (value is None and name != _PRESENCE_DECIDES):
                continue
            if isinstance(value, TypedConcept | TypedQuantity | TypedReference):
                value = value.as_json()
            resource[name] = value
        return resource


# The one element whose presence, even as null, changes the reading (`orders_clozapine`).
_PRESENCE_DECIDES = "medicationCodeableConcept"


class TypedEntry(msgspec.Struct, gc=False):
    """A Bundle entry."""

    resource: TypedResource | None = None
    fullUrl: Any = None


class TypedBundle(msgspec.Struct, gc=False):
    """A Bundle: its type and entries."""

    resourceType: Any = None
    entry: list[TypedEntry] | None = None


_DECODER = msgspec.json.Decoder(TypedBundle, float_hook=exact_decimal)


def decode_bundle(text: str | bytes) -> TypedBundle | None:
    """The Bundle as Structs, or None when the typed decode refuses the text."""
    try:
        return _DECODER.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeError, RecursionError):
        return None


def _coding_json(coding: TypedCoding) -> FhirJson:
    return {"system": coding.system, "code": coding.code, "display": coding.display}
