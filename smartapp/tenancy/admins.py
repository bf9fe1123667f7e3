"""Users the organisation names (`SMARTAPP_REGISTRY_ADMINS`, `SMARTAPP_WORKLIST_USERS`) as (EHR, user) pairs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from smartapp.settings import PREFIX, SettingsError

SETTING = f"{PREFIX}REGISTRY_ADMINS"
WORKLIST_SETTING = f"{PREFIX}WORKLIST_USERS"


def _reference(path: str) -> str | None:
    """`Type/id` when the path is exactly one FHIR reference (history stripped), else None."""
    parts = [p for p in path.strip().strip("/").split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) != 2 or not parts[0][:1].isupper():
        return None
    return "/".join(parts)


def user_at(issuers: Iterable[str], fhir_user: str) -> tuple[str, str] | None:
    """(issuer, `Type/id`) for a full fhirUser URL under one of `issuers` (the longest base
    that matches), else None."""
    text = fhir_user.strip()
    for iss in sorted(issuers, key=len, reverse=True):
        base = iss.rstrip("/") + "/"
        if text.startswith(base):
            reference = _reference(text[len(base) :])
            return None if reference is None else (iss, reference)
    return None


@dataclass(frozen=True, slots=True)
class RegistryAdmins:
    """Who may open a page the organisation restricts (the registry's administration, the
    worklist), each at one EHR: a user id means nothing elsewhere."""

    members: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def from_setting(
        cls, entries: Iterable[str], issuers: Sequence[str], setting: str = SETTING
    ) -> RegistryAdmins:
        """Full fhirUser URLs under an allow-listed issuer; a relative `Type/id` only when one
        issuer is configured, and then at that issuer. SettingsError naming `setting`."""
        members = set()
        for entry in entries:
            if "://" in entry:
                member = user_at(issuers, entry)
                if member is None:
                    raise SettingsError(
                        f"{setting}: {entry} is not a user (Type/id) under an allow-listed issuer"
                        f" ({', '.join(issuers)})"
                    )
            else:
                reference = _reference(entry)
                if reference is None:
                    raise SettingsError(f"{setting}: {entry} is not a fhirUser reference")
                if len(issuers) != 1:
                    raise SettingsError(
                        f"{setting}: {entry} does not say which EHR it is a user of and"
                        f" {len(issuers)} issuers are configured; write the full fhirUser URL,"
                        f" e.g. {issuers[0] if issuers else '<iss>'}/{reference}"
                    )
                member = (issuers[0], reference)
            members.add(member)
        return cls(frozenset(members))

    def includes(self, iss: str, fhir_user: str | None) -> bool:
        """Whether the launch's user (its fhirUser, at the launch's EHR) is an administrator.

        A relative fhirUser is the launch's EHR's; a full URL counts only under that EHR."""
        if not fhir_user:
            return False
        if "://" in fhir_user:
            member = user_at([iss], fhir_user)
        else:
            reference = _reference(fhir_user)
            member = None if reference is None else (iss, reference)
        return member is not None and member in self.members
