"""The sandbox EHR front: SMART authorization server, FHIR proxy, faults, vendor profiles, chart
and its CDS Hooks client."""

from sandbox.ehr.app import create_app
from sandbox.ehr.config import SandboxConfig, load_config

__all__ = ["SandboxConfig", "create_app", "load_config"]
