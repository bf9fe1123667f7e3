"""Write-back settings: the organisation file's [writeback] table and the triggering findings."""

from __future__ import annotations

import pytest

from clozapine.vocabulary import FindingCode
from fhir_mappings.outbound import DEFAULT_WRITEBACK_FINDINGS
from smartapp.org_config import ConfigError, OrgConfig, org_config_from_document
from smartapp.writeback import triggering_codes

PROGRAM = {"id": "p", "name": "Program", "document": "Policy CP-01"}


def test_writeback_config_defaults_to_proposal_and_the_app_identifier_system() -> None:
    config = org_config_from_document({})
    assert (config.task_intent, config.writeback_identifier_system) == ("proposal", None)


def test_writeback_config_reads_task_intent_and_identifier_system() -> None:
    config = org_config_from_document(
        {"writeback": {"task_intent": "order", "identifier_system": "https://org.example/wb"}}
    )
    assert (config.task_intent, config.writeback_identifier_system) == (
        "order",
        "https://org.example/wb",
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"task_intent": "plan"}, "writeback.task_intent must be 'proposal' or 'order'"),
        ({"task_intent": ""}, "writeback.task_intent must be a non-empty string"),
        ({"identifier_system": "no scheme"}, "writeback.identifier_system must be a URI"),
        ({"identifier_system": "urn:a|b"}, "writeback.identifier_system must be a URI"),
        ({"auto": True}, "writeback.auto is not a write-back setting"),
        ("proposal", "[writeback] must be a table"),
    ],
)
def test_writeback_config_bad_values_name_the_setting(table, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        org_config_from_document({"writeback": table})


def test_writeback_triggering_codes_default_without_a_program_list() -> None:
    assert triggering_codes(OrgConfig()) == DEFAULT_WRITEBACK_FINDINGS
    program = org_config_from_document({"program": PROGRAM})
    assert triggering_codes(program) == DEFAULT_WRITEBACK_FINDINGS


def test_writeback_triggering_codes_from_the_program() -> None:
    config = org_config_from_document(
        {"program": {**PROGRAM, "writeback_findings": ["enrollment-expired"]}}
    )
    assert triggering_codes(config) == ("enrollment-expired",)


def test_writeback_findings_must_be_finding_codes() -> None:
    with pytest.raises(ConfigError, match="'monitoring-overdo', which is not a finding code"):
        org_config_from_document(
            {"program": {**PROGRAM, "writeback_findings": ["monitoring-overdo"]}}
        )
    config = org_config_from_document(
        {"program": {**PROGRAM, "writeback_findings": ["monitoring-overdue"]}}
    )
    assert config.program is not None
    assert config.program.writeback_findings == (FindingCode.MONITORING_OVERDUE,)
