/** Which search parameters a search may use, and lenient or strict handling of the others. */
import { globalSchema } from '@medplum/core';

// Result parameters Medplum's parseSearchRequest understands: https://hl7.org/fhir/R4/search.html
const RESULT_PARAMS = new Set([
  '_count',
  '_offset',
  '_sort',
  '_total',
  '_summary',
  '_include',
  '_revinclude',
  '_elements',
]);

function isKnown(resourceType, name) {
  const code = name.split(':')[0];
  if (RESULT_PARAMS.has(code) || code.includes('.') || code === '_has') {
    return true;
  }
  return Boolean(globalSchema.types[resourceType]?.searchParams?.[code]);
}

/**
 * Splits a search's parameters into those the server knows and the names it does not.
 * MemoryRepository matches nothing for an unknown parameter; a FHIR server should instead
 * ignore it (lenient, the default) or refuse the search (`Prefer: handling=strict`):
 * https://hl7.org/fhir/R4/search.html#errors
 */
export function partitionSearchParams(resourceType, params) {
  const known = new URLSearchParams();
  const unknown = [];
  for (const [name, value] of params) {
    if (isKnown(resourceType, name)) {
      known.append(name, value);
    } else {
      unknown.push(name);
    }
  }
  return { known, unknown };
}

/** True when the request asks for strict handling of unknown search parameters. */
export function wantsStrictHandling(preferHeader) {
  return /(^|[;,\s])handling\s*=\s*strict\b/i.test(preferHeader ?? '');
}
