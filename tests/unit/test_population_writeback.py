"""The run's write-back targets: the chart's targets, never for a patient with incomplete data."""

from __future__ import annotations

from collections import Counter

from clozapine import PatientFacts, evaluate, policy_in_force
from smartapp.org_config import OrgConfig
from smartapp.writeback.population import PopulationTargets, PopulationWriteback
from tests.unit.cases import AS_OF, anc, order


def overdue(patient: str):
    facts = PatientFacts.create(
        patient, orders=[order(-100, source="MedicationRequest/rx-1")], ancs=[anc(2500, -10)]
    )
    return evaluate(facts, AS_OF, policy_in_force(AS_OF))


def current(patient: str):
    facts = PatientFacts.create(
        patient, orders=[order(-100, source="MedicationRequest/rx-1")], ancs=[anc(2500, -1)]
    )
    return evaluate(facts, AS_OF, policy_in_force(AS_OF))


def test_targets_are_the_charts_and_skip_patients_whose_data_was_not_whole():
    found = PopulationTargets.for_org(OrgConfig())
    found.observe("Patient/a", overdue("Patient/a"), True)
    found.observe("Patient/b", overdue("Patient/b"), False)
    found.observe("Patient/c", current("Patient/c"), True)
    assert [p.patient for p in found.patients] == ["Patient/a"]
    (kept,) = found.patients
    assert [t.finding.code for t in kept.targets] == ["monitoring-overdue"]
    assert kept.targets[0].identifier_tuple[1].startswith("a/monitoring-overdue/")
    assert kept.medication_request == "MedicationRequest/rx-1"
    assert found.skipped_incomplete == 1


def test_summary_says_what_was_written_skipped_or_why_nothing_was():
    done = PopulationWriteback(Counter({"existing": 2, "created": 3}), 1)
    assert done.summary() == (
        "write-back: 3 created, 2 existing; 1 patients with incomplete data not written"
    )
    refused = PopulationWriteback(Counter(), 0, "no Flag scope")
    assert refused.summary() == "write-back: nothing written (no Flag scope)"


def test_writeback_without_the_apps_url_stops_before_any_request(tmp_path, monkeypatch, capsys):
    from cryptography.fernet import Fernet

    from smartapp.commands.cli import main
    from smartapp.commands.db import upgrade

    issuers = tmp_path / "issuers.toml"
    issuers.write_text(
        '[[issuer]]\nname = "EHR"\niss = "https://ehr.example.org/fhir"\nclient_id = "app"\n'
        'backend_client_id = "backend"\n'
    )
    database = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(database)
    for name, value in {
        "SMARTAPP_ISSUERS_FILE": str(issuers),
        "SMARTAPP_DATABASE_URL": database,
        "SMARTAPP_TOKEN_KEY": Fernet.generate_key().decode(),
        "SMARTAPP_INSTANCE_DIR": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SMARTAPP_BASE_URL", raising=False)
    monkeypatch.delenv("SMARTAPP_ORG_CONFIG", raising=False)
    assert main(["worklist", "fetch", "--issuer", "EHR", "--writeback"]) == 2
    err = capsys.readouterr().err
    assert "--writeback needs SMARTAPP_BASE_URL" in err and len(err.strip().splitlines()) == 1
