"""Findings as every page lists them: the engine's words in the page's units, rule and source."""

from __future__ import annotations

from dataclasses import dataclass

from clozapine import Finding


@dataclass(frozen=True, slots=True)
class FindingView:
    """One finding as a page lists it (`deadline`: the program panel's, in words, if any)."""

    code: str
    severity: str
    message: str
    rule: str
    citation: str
    citation_url: str | None
    deadline: str | None = None


def page_units(text: str) -> str:
    """Text with the pages' spelling of cells per microlitre (`/µL`; the engine writes `/uL`,
    as the evaluation's JSON does)."""
    return text.replace("/uL", "/µL")


def finding_view(finding: Finding, deadline: str | None = None) -> FindingView:
    """A finding as a page shows it: the same words, the page's units."""
    return FindingView(
        finding.code,
        finding.severity.value,
        page_units(finding.message),
        finding.rule,
        finding.citation,
        finding.citation_url,
        deadline,
    )
