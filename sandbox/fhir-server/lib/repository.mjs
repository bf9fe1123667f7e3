/** Medplum's MemoryRepository with a patient index, validation on write and atomic transactions. */
import {
  badRequest,
  EMPTY,
  evalFhirPath,
  globalSchema,
  matchesSearchRequest,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';
import { PatientIndex } from './patient-index.mjs';
import { isSupportedType } from './resource-types.mjs';

// This subclass overrides two methods that @medplum/fhir-router 5.2.13 declares private
// (createResourceSync, searchSync): every write and every search, conditional create included,
// goes through them. The version is pinned in package.json; test/repository.test.mjs compares
// the results with a plain MemoryRepository.
export class SandboxRepository extends MemoryRepository {
  constructor({ validate = true } = {}) {
    super();
    this.validate = validate;
    this.patientIndex = new PatientIndex();
  }

  createResourceSync(resource, options, update = false) {
    if (!this.seeding) {
      checkWritable(resource, this.validate);
    }
    const previous = update ? this.resources.get(resource.resourceType)?.get(resource.id) : undefined;
    const result = super.createResourceSync(resource, options, update);
    if (previous) {
      this.patientIndex.remove(previous);
    }
    this.patientIndex.add(result);
    return result;
  }

  searchSync(searchRequest) {
    const narrowed = this.patientIndex.narrow(searchRequest);
    if (!narrowed) {
      return super.searchSync(searchRequest);
    }
    const request = { ...searchRequest, filters: narrowed.filters };
    const matches = [];
    // Iterating the type's map (not the id set) keeps MemoryRepository's order: insertion order.
    for (const [id, resource] of this.resources.get(searchRequest.resourceType) ?? []) {
      if (narrowed.ids.has(id) && matchesSearchRequest(resource, request)) {
        matches.push(resource);
      }
    }
    sortResources(matches, searchRequest.sortRules ?? EMPTY);
    const offset = searchRequest.offset ?? 0;
    const page = matches.slice(
      offset,
      searchRequest.count === undefined ? undefined : offset + searchRequest.count,
    );
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: page.length
        ? page.map((r) => ({ search: { mode: 'match' }, resource: structuredClone(r) }))
        : undefined,
      total: matches.length,
    };
  }

  async deleteResource(resourceType, id, options) {
    const existing = this.resources.get(resourceType)?.get(id);
    await super.deleteResource(resourceType, id, options);
    if (existing) {
      this.patientIndex.remove(existing);
    }
  }

  async expungeResources(resourceType, ids) {
    for (const id of ids) {
      const existing = this.resources.get(resourceType)?.get(id);
      if (existing) {
        this.patientIndex.remove(existing);
      }
    }
    await super.expungeResources(resourceType, ids);
  }

  clear() {
    super.clear();
    this.patientIndex.clear();
  }

  /** Runs a transaction; on any error, puts every stored resource back as it was (all or nothing). */
  // Safe without locks: this repository does no I/O, so a transaction runs to its end without
  // yielding to the event loop, and no other request can write between snapshot and restore.
  async withTransaction(callback) {
    const saved = this.snapshot();
    try {
      return await callback(this);
    } catch (err) {
      this.restore(saved);
      throw err;
    }
  }

  snapshot() {
    return {
      resources: new Map([...this.resources].map(([type, byId]) => [type, new Map(byId)])),
      history: new Map(
        [...this.history].map(([type, byId]) => [type, new Map([...byId].map(([id, v]) => [id, [...v]]))]),
      ),
    };
  }

  restore(saved) {
    this.resources.clear();
    this.history.clear();
    this.patientIndex.clear();
    for (const [type, byId] of saved.resources) {
      this.resources.set(type, byId);
      for (const resource of byId.values()) {
        this.patientIndex.add(resource);
      }
    }
    for (const [type, byId] of saved.history) {
      this.history.set(type, byId);
    }
  }
}

function checkWritable(resource, validate) {
  if (!isSupportedType(resource.resourceType)) {
    throw new OperationOutcomeError(badRequest(`Resource type not supported: ${resource.resourceType}`));
  }
  if (validate) {
    validateResource(resource);
  }
}

// The first rule is the primary key (https://hl7.org/fhir/R4/search.html#_sort): sort by the
// last rule first, and let each stable sort before it take precedence.
function sortResources(resources, sortRules) {
  for (const rule of [...sortRules].reverse()) {
    const expression = globalSchema.types[resources[0]?.resourceType]?.searchParams?.[rule.code]?.expression;
    if (!expression) {
      continue;
    }
    const key = (r) => JSON.stringify(evalFhirPath(expression, r));
    resources.sort((a, b) => key(a).localeCompare(key(b)) * (rule.descending ? -1 : 1));
  }
}
