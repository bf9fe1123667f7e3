"""Collects an evaluation's findings from the policy's finding rows: one per code, ordered."""

from __future__ import annotations

from datetime import datetime, timedelta

from clozapine.evaluation import Finding
from clozapine.policy import Policy
from clozapine.vocabulary import FindingCode


class FindingList:
    """The findings made so far; the policy's rows give severity, rule, citation and wording."""

    def __init__(self, policy: Policy) -> None:
        self._rows = policy.findings
        self._made: dict[FindingCode, Finding] = {}

    def add(self, code: FindingCode, **fields: object) -> None:
        """Make the finding `code` (once), filling its message template with `fields`."""
        if code in self._made:
            return
        row = self._rows[code]
        self._made[code] = Finding(
            code=code,
            severity=row.severity,
            message=row.message.format(**fields),
            rule=row.rule_id,
            citation=str(row.citation),
            citation_url=row.citation.url,
        )

    def has(self, code: FindingCode) -> bool:
        """True when the finding has been made."""
        return code in self._made

    def ordered(self) -> tuple[Finding, ...]:
        """Critical first, then warning, then info; by code within a severity."""
        return tuple(sorted(self._made.values(), key=lambda f: (f.severity.rank, f.code)))


def when(collected_at: datetime, later: timedelta = timedelta(0)) -> str:
    """An instant (plus an offset) as a prescriber reads it: '2026-11-24 08:00 UTC-05:00'."""
    instant = collected_at + later
    offset = instant.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else ""
    return f"{instant:%Y-%m-%d %H:%M} {zone}".strip()
