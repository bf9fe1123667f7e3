/** The indexed repository answers searches as MemoryRepository does, faster, and rolls back. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { parseSearchRequest } from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';
import { loadDefinitions, narrowSearchExpressions } from '../lib/definitions.mjs';
import { SandboxRepository } from '../lib/repository.mjs';
import { RESOURCE_TYPES } from '../lib/resource-types.mjs';

const LOINC = 'http://loinc.org';

function observation(id, patient, code, day) {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
        ],
      },
    ],
    code: { coding: [{ system: LOINC, code }] },
    subject: { reference: patient.includes('/') ? patient : `Patient/${patient}` },
    effectiveDateTime: `2026-11-${String(day).padStart(2, '0')}T15:00:00.000Z`,
  };
}

function chart() {
  const resources = [];
  for (let p = 1; p <= 4; p++) {
    resources.push({ resourceType: 'Patient', id: `p${p}` });
    for (let i = 1; i <= 12; i++) {
      resources.push(observation(`o${p}-${i}`, `p${p}`, i % 3 ? '751-8' : '6690-2', i));
    }
    resources.push({
      resourceType: 'Task',
      id: `t${p}`,
      status: 'requested',
      intent: 'order',
      for: { reference: `Patient/p${p}` },
    });
  }
  resources.push(observation('g1', 'Group/p1', '751-8', 3)); // a subject that is not a Patient
  return resources;
}

async function filled(repo) {
  await repo.withSeeding(async () => {
    for (const resource of chart()) {
      await repo.createResource(resource);
    }
  });
  return repo;
}

const ids = (bundle) => (bundle.entry ?? []).map((e) => e.resource.id);

before(() => {
  loadDefinitions(RESOURCE_TYPES);
  narrowSearchExpressions(RESOURCE_TYPES);
});

describe('SandboxRepository search', () => {
  let plain;
  let indexed;
  before(async () => {
    plain = await filled(new MemoryRepository());
    indexed = await filled(new SandboxRepository());
  });

  const queries = [
    'Observation?patient=p2',
    'Observation?patient=Patient/p2,p3&_count=5&_offset=3',
    `Observation?patient=p1&code=${LOINC}|751-8&category=laboratory`,
    'Observation?subject=Patient/p1',
    'Observation?subject=Group/p1',
    'Observation?subject=p1',
    'Observation?patient=p9',
    'Observation?patient=p4&_sort=-date',
    'Observation?patient:missing=false&_count=2',
    'Task?patient=p3',
    'Task?subject=Patient/p3',
    'Observation?code=6690-2',
  ];
  for (const query of queries) {
    test(`${query} matches MemoryRepository`, async () => {
      const expected = await plain.search(parseSearchRequest(query));
      const actual = await indexed.search(parseSearchRequest(query));
      assert.equal(actual.total, expected.total);
      assert.deepEqual(ids(actual), ids(expected));
    });
  }

  test('patient filters are answered from the index', () => {
    const narrowed = indexed.patientIndex.narrow(parseSearchRequest('Observation?patient=p2&code=6690-2'));
    assert.deepEqual([...narrowed.ids].sort(), Array.from({ length: 12 }, (_, i) => `o2-${i + 1}`).sort());
    assert.deepEqual(
      narrowed.filters.map((f) => f.code),
      ['code'],
    );
    assert.equal(indexed.patientIndex.narrow(parseSearchRequest('Observation?subject=p2')), undefined);
  });

  test('an update moves a resource to its new patient', async () => {
    const moved = await indexed.readResource('Observation', 'o1-1');
    await indexed.updateResource({ ...moved, subject: { reference: 'Patient/p4' } });
    assert.equal(
      ids(await indexed.search(parseSearchRequest('Observation?patient=p1'))).includes('o1-1'),
      false,
    );
    assert.equal(
      ids(await indexed.search(parseSearchRequest('Observation?patient=p4'))).includes('o1-1'),
      true,
    );
  });
});

describe('SandboxRepository writes', () => {
  test('a failed transaction leaves nothing behind', async () => {
    const repo = new SandboxRepository();
    await assert.rejects(
      repo.withTransaction(async (tx) => {
        await tx.createResource(observation('x1', 'p1', '751-8', 1));
        throw new Error('second entry failed');
      }),
      /second entry failed/,
    );
    await assert.rejects(repo.readResource('Observation', 'x1'), /Not found/);
    assert.equal((await repo.search(parseSearchRequest('Observation?patient=p1'))).total, 0);
  });

  test('writes are validated and limited to the served types', async () => {
    const repo = new SandboxRepository();
    await assert.rejects(repo.createResource({ resourceType: 'Flag', status: 'active', bogus: 1 }), /bogus/);
    await assert.rejects(
      repo.createResource({ resourceType: 'Basic', code: { text: 'x' } }),
      /not supported/,
    );
  });
});
