"""Synthetic sandbox patients: a seeded, as-of-relative FHIR R4 transaction Bundle and manifest."""

from sandbox.patients.bundle import DEFAULT_SEED, build

__all__ = ["DEFAULT_SEED", "build"]
