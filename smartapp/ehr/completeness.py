"""Whether a patient's record was read whole: which reads were incomplete, and what follows.

One notion for every entry point that evaluates EHR data (the chart page and its write-back today;
CDS Hooks, the worklist and a patient view can import it as they are): a read is incomplete when
the FHIR client could not read a search whole (fhir_client.completeness: a malformed searchset, a
next page that failed, fewer matches than the server's `total`). Completeness travels beside the
evaluation, never inside its JSON (the contract's `overall` rules stand):

- orders or lab results not read whole: no evaluation at all, since what is missing may be the
  current clozapine order or the low ANC (`IncompleteRecord`);
- the problem list not read whole (or not read): the evaluation stands on the general thresholds,
  shown with a notice that BEN status is unknown, and never as the all-clear;
- any incomplete read: nothing is written back to the chart and nothing is retired.
"""

from __future__ import annotations

from dataclasses import dataclass

from fhir_client import FhirError, FhirIncompleteRead
from fhir_client.messages import RESOURCE_WORDS, Call, error_from_incomplete
from smartapp.errors import IncompleteRecord

__all__ = [
    "BEN_SOURCE",
    "COMPLETE",
    "REQUIRED_FOR_EVALUATION",
    "IncompleteRead",
    "ReadCompleteness",
    "data_words",
]

# Without these read whole there is nothing safe to say (evaluation-contract.md, "Reading the
# Bundle": the orders decide whether the patient is on clozapine, the results what is due).
REQUIRED_FOR_EVALUATION = ("MedicationRequest", "Observation")
# Documented BEN comes from the problem list; without it the general thresholds apply.
BEN_SOURCE = "Condition"
TRY_AGAIN = (
    "Try again in a few minutes; if this persists, ask your EHR team to check the FHIR "
    "interface, and check the chart by hand meanwhile."
)


@dataclass(frozen=True, slots=True)
class IncompleteRead:
    """One kind of data that was not read whole: why (`problems`, safe to log) and the sentence
    the prescriber reads (`message`, may quote the EHR: escaped by the templates)."""

    resource_type: str
    problems: tuple[str, ...]
    message: str

    @classmethod
    def from_error(cls, resource_type: str, error: FhirError) -> IncompleteRead:
        """The incomplete read a failed search stands for (an incomplete one, or any failure)."""
        if isinstance(error, FhirIncompleteRead):
            problems = error.problems
        elif error.status is not None:
            problems = (f"the EHR answered {error.status}",)
        else:
            problems = (f"the read failed ({type(error).__name__})",)
        return cls(resource_type, problems, error.user_message)

    @classmethod
    def from_problems(cls, resource_type: str, problems: tuple[str, ...]) -> IncompleteRead:
        """The incomplete read of a searchset the EHR sent another way (a CDS Hooks prefetch,
        read with fhir_client.completeness.read_searchset_page), in the client's own words."""
        error = error_from_incomplete(Call("GET", resource_type), problems)
        return cls(resource_type, problems, error.user_message)

    @property
    def words(self) -> str:
        """What this data is, in a prescriber's words ("medication orders")."""
        return RESOURCE_WORDS.get(self.resource_type, f"{self.resource_type} resources")


@dataclass(frozen=True, slots=True)
class ReadCompleteness:
    """The reads of one patient that were not whole; empty when everything was read."""

    incomplete: tuple[IncompleteRead, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether every read was whole."""
        return not self.incomplete

    def of(self, resource_type: str) -> IncompleteRead | None:
        """The incomplete read of this type, if it was one."""
        return next((r for r in self.incomplete if r.resource_type == resource_type), None)

    def adding(self, read: IncompleteRead) -> ReadCompleteness:
        """This completeness with one more incomplete read (one per resource type)."""
        if self.of(read.resource_type) is not None:
            return self
        return ReadCompleteness((*self.incomplete, read))

    @property
    def blocking(self) -> tuple[IncompleteRead, ...]:
        """The incomplete reads that leave nothing safe to evaluate."""
        return tuple(r for r in self.incomplete if r.resource_type in REQUIRED_FOR_EVALUATION)

    @property
    def can_evaluate(self) -> bool:
        """Whether an evaluation may be shown at all."""
        return not self.blocking

    @property
    def ben_status_unknown(self) -> bool:
        """Whether documented BEN could not be checked (the general thresholds were applied)."""
        return self.of(BEN_SOURCE) is not None

    def ben_notice(self) -> str | None:
        """The notice the page shows above an evaluation made without the problem list."""
        if not self.ben_status_unknown:
            return None
        return (
            "BEN status could not be read: the EHR's problem list was not read completely, so "
            "the app cannot tell whether benign ethnic neutropenia is documented and applied the "
            "general thresholds. Check the problem list before relying on this status."
        )

    def refusal(self) -> IncompleteRecord:
        """The error that stops an evaluation whose orders or results were not read whole."""
        blocking = self.blocking
        named = data_words(blocking)
        return IncompleteRecord(
            f"The app cannot evaluate this patient: {named} could not be read completely",
            f"The EHR's {named} could not be read completely, so no status, schedule or "
            "recommendation is shown: what is missing could be the current clozapine order or "
            f"a low ANC. {TRY_AGAIN}",
            tuple(read.message for read in blocking),
            tuple(read.resource_type for read in blocking),
        )

    def write_refusal(self) -> IncompleteRecord:
        """The error that stops a write-back (or a retirement) after an incomplete read."""
        named = data_words(self.incomplete)
        return IncompleteRecord(
            f"Nothing was written to the chart: {named} could not be read completely",
            f"The EHR's {named} could not be read completely, so the app writes no flag or task "
            f"and retires none until it can read the record whole. {TRY_AGAIN}",
            tuple(read.message for read in self.incomplete),
            tuple(read.resource_type for read in self.incomplete),
        )

    def writeback_problem(self) -> str | None:
        """Why the write-back panel offers nothing, when a read was incomplete."""
        if self.complete:
            return None
        return (
            f"Write-back is off for this patient: the EHR's {data_words(self.incomplete)} could "
            "not be read completely, so no flag or task is written or retired."
        )


# Every read whole: the default where nothing says otherwise.
COMPLETE = ReadCompleteness()


def data_words(reads: tuple[IncompleteRead, ...]) -> str:
    """The data named in words: "medication orders", "medication orders and lab results"."""
    words = list(dict.fromkeys(read.words for read in reads))
    if len(words) <= 1:
        return words[0] if words else "the record"
    return f"{', '.join(words[:-1])} and {words[-1]}"
