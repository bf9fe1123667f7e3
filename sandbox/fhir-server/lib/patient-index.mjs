/** A per-patient index of resources, so a patient's search reads only that patient's resources. */
import { globalSchema, Operator } from '@medplum/core';

// The reference search parameters answered from the index. Their R4 expressions are a plain
// element path, optionally narrowed with `.where(resolve() is Patient)`; evaluating that FHIRPath
// union on every stored resource is what makes MemoryRepository's scan slow.
const INDEXED_CODES = ['patient', 'subject'];
const BRANCH = /^(\w+)\.(\w+)(?:\.where\(\(?resolve\(\) is (\w+)\)?\))?$/;

/**
 * Reads, for one resource type and search parameter, the elements it follows and the target type
 * it requires, e.g. Observation `patient` -> [{ field: 'subject', targetType: 'Patient' }].
 * Returns undefined when the expression is not a plain path this index can answer exactly.
 */
function parameterBranches(resourceType, code) {
  const param = globalSchema.types[resourceType]?.searchParams?.[code];
  if (param?.type !== 'reference' || !param.expression) {
    return undefined;
  }
  const branches = [];
  for (const part of param.expression.split('|').map((s) => s.trim())) {
    const match = BRANCH.exec(part);
    if (!match) {
      if (part.startsWith(resourceType + '.')) {
        return undefined;
      }
      continue;
    }
    if (match[1] === resourceType) {
      branches.push({ field: match[2], targetType: match[3] });
    }
  }
  return branches.length > 0 ? branches : undefined;
}

/** "Type/id" for a literal reference (relative or absolute, with or without _history). */
export function referenceKey(reference) {
  if (typeof reference !== 'string' || reference.startsWith('#')) {
    return undefined;
  }
  const parts = reference.split('/_history/')[0].split('/');
  return parts.length >= 2 ? parts.slice(-2).join('/') : undefined;
}

export class PatientIndex {
  constructor() {
    this.branchCache = new Map();
    this.entries = new Map(); // "Type.field" -> Map<"Type/id", Set<id>>
  }

  branches(resourceType, code) {
    const cacheKey = resourceType + '?' + code;
    if (!this.branchCache.has(cacheKey)) {
      this.branchCache.set(cacheKey, parameterBranches(resourceType, code));
    }
    return this.branchCache.get(cacheKey);
  }

  fields(resourceType) {
    const fields = new Set();
    for (const code of INDEXED_CODES) {
      for (const branch of this.branches(resourceType, code) ?? []) {
        fields.add(branch.field);
      }
    }
    return fields;
  }

  *keysOf(resource) {
    for (const field of this.fields(resource.resourceType)) {
      const value = resource[field];
      for (const ref of Array.isArray(value) ? value : [value]) {
        const key = referenceKey(ref?.reference);
        if (key) {
          yield [resource.resourceType + '.' + field, key];
        }
      }
    }
  }

  add(resource) {
    for (const [slot, key] of this.keysOf(resource)) {
      let byKey = this.entries.get(slot);
      if (!byKey) {
        byKey = new Map();
        this.entries.set(slot, byKey);
      }
      let ids = byKey.get(key);
      if (!ids) {
        ids = new Set();
        byKey.set(key, ids);
      }
      ids.add(resource.id);
    }
  }

  remove(resource) {
    for (const [slot, key] of this.keysOf(resource)) {
      this.entries.get(slot)?.get(key)?.delete(resource.id);
    }
  }

  clear() {
    this.entries.clear();
  }

  /**
   * Splits a search into the ids its patient/subject filter allows and the filters left to match.
   * Returns undefined when the search has no such filter that the index can answer exactly.
   */
  narrow(searchRequest) {
    const filters = searchRequest.filters ?? [];
    if (filters.some((f) => f.code.includes('.') || f.code.startsWith('_has'))) {
      return undefined; // chained searches stay with MemoryRepository
    }
    for (let i = 0; i < filters.length; i++) {
      const ids = this.lookup(searchRequest.resourceType, filters[i]);
      if (ids) {
        return { ids, filters: filters.filter((_, j) => j !== i) };
      }
    }
    return undefined;
  }

  lookup(resourceType, filter) {
    if (!INDEXED_CODES.includes(filter.code) || filter.operator !== Operator.EQUALS) {
      return undefined;
    }
    const branches = this.branches(resourceType, filter.code);
    if (!branches) {
      return undefined;
    }
    const ids = new Set();
    for (const value of String(filter.value).split(',')) {
      const keys = this.keysForValue(branches, value.trim());
      if (!keys) {
        return undefined;
      }
      for (const { slot, key } of keys) {
        for (const id of this.entries.get(resourceType + '.' + slot)?.get(key) ?? []) {
          ids.add(id);
        }
      }
    }
    return ids;
  }

  keysForValue(branches, value) {
    const keys = [];
    for (const { field, targetType } of branches) {
      let key = referenceKey(value);
      if (!key) {
        if (!targetType) {
          return undefined; // a bare id with no target type could name any resource type
        }
        key = targetType + '/' + value;
      }
      if (!targetType || key.startsWith(targetType + '/')) {
        keys.push({ slot: field, key });
      }
    }
    return keys;
  }
}
