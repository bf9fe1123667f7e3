/** The server's CapabilityStatement (`GET /fhir/metadata`), built from what the wrapper serves. */
import { globalSchema } from '@medplum/core';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './paging.mjs';
import { RESOURCE_TYPES } from './resource-types.mjs';

// https://hl7.org/fhir/R4/codesystem-restful-interaction.html
const TYPE_INTERACTIONS = [
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'create',
  'search-type',
];
const SYSTEM_INTERACTIONS = ['transaction', 'batch'];
const COMMON_PARAMS = new Set(['_id', '_lastUpdated']);

const DOCUMENTATION =
  'Sandbox EHR for the clozapine SMART app: an in-memory FHIR R4 engine (Medplum fhir-router). ' +
  `Searches page with _count (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}) and _offset; ` +
  'follow Bundle.link "next". Create honours If-None-Exist; a transaction is all or nothing. ' +
  'Data is synthetic and lives only in memory.';

function searchParams(resourceType) {
  const params = globalSchema.types[resourceType]?.searchParams ?? {};
  return Object.entries(params)
    .filter(
      ([code, param]) =>
        COMMON_PARAMS.has(code) || (!code.startsWith('_') && param.url?.startsWith('http://hl7.org/')),
    )
    .map(([code, param]) => ({
      name: code,
      ...(param.url ? { definition: param.url } : {}),
      type: param.type,
    }));
}

function resourceEntry(type) {
  return {
    type,
    interaction: TYPE_INTERACTIONS.map((code) => ({ code })),
    versioning: 'versioned',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalUpdate: true,
    conditionalDelete: 'single',
    searchParam: searchParams(type),
  };
}

/** A CapabilityStatement for the given public base URL, dated when the server started. */
export function capabilityStatement({ base, startedAt, version }) {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: startedAt,
    publisher: 'clozapine-smartapp sandbox',
    kind: 'instance',
    software: { name: 'clozapine sandbox FHIR server (@medplum/fhir-router)', version },
    implementation: { description: 'Sandbox EHR FHIR R4 server (synthetic data)', url: base },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation: DOCUMENTATION,
        resource: RESOURCE_TYPES.map(resourceEntry),
        interaction: SYSTEM_INTERACTIONS.map((code) => ({ code })),
      },
    ],
  };
}
