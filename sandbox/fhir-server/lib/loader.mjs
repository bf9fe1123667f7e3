/** Loads a transaction, batch or collection Bundle file straight into the repository at start-up. */
import { readFile } from 'node:fs/promises';

const LOADABLE_TYPES = new Set(['transaction', 'batch', 'collection', 'searchset']);

/**
 * Stores every entry's resource with its own id (or the id in `request.url`, or a new one),
 * rewriting references to entry fullUrls (urn:uuid:...) as "Type/id". It skips the router, so no
 * entry costs a conditional-create search, and keeps each resource's meta.lastUpdated.
 * @returns the number of resources stored.
 */
export async function loadBundleFile(repo, path) {
  const bundle = JSON.parse(await readFile(path, 'utf8'));
  if (bundle?.resourceType !== 'Bundle' || !LOADABLE_TYPES.has(bundle.type)) {
    throw new Error(`${path}: not a transaction, batch or collection Bundle`);
  }
  const resources = [];
  const localIds = new Map();
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource;
    if (!resource?.resourceType) {
      continue;
    }
    const method = entry.request?.method ?? 'PUT';
    if (method !== 'PUT' && method !== 'POST') {
      throw new Error(`${path}: cannot load a ${method} entry`);
    }
    resource.id ??= idFromRequestUrl(entry.request?.url) ?? repo.generateId();
    if (entry.fullUrl) {
      localIds.set(entry.fullUrl, `${resource.resourceType}/${resource.id}`);
    }
    resources.push(resource);
  }
  await repo.withSeeding(async () => {
    for (const resource of resources) {
      await repo.updateResource(rewriteReferences(resource, localIds));
    }
  });
  return resources.length;
}

function idFromRequestUrl(url) {
  const match = /^[A-Za-z]+\/([A-Za-z0-9\-.]{1,64})$/.exec(url ?? '');
  return match ? match[1] : undefined;
}

function rewriteReferences(value, localIds) {
  if (localIds.size === 0) {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((v) => rewriteReferences(v, localIds));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = key === 'reference' && localIds.has(v) ? localIds.get(v) : rewriteReferences(v, localIds);
  }
  return out;
}
