/** Search paging: the page window from `_count`/`_offset`, and the Bundle.link relations. */
import { badRequest, OperationOutcomeError } from '@medplum/core';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

function nonNegativeInteger(params, name, fallback) {
  const values = params.getAll(name);
  if (values.length === 0) {
    return fallback;
  }
  const text = values.at(-1);
  if (!/^\d+$/.test(text)) {
    throw new OperationOutcomeError(badRequest(`${name} must be a non-negative integer, not "${text}"`));
  }
  return Number.parseInt(text, 10);
}

/** The page a search asks for: `_count` (default 50, at most 1000) results from `_offset`. */
export function pageWindow(params) {
  const count = Math.min(nonNegativeInteger(params, '_count', DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  const offset = nonNegativeInteger(params, '_offset', 0);
  return { count, offset };
}

/** Search parameters with the page window written out, as the router and every link receive them. */
export function withWindow(params, { count, offset }) {
  const out = new URLSearchParams();
  for (const [name, value] of params) {
    if (name !== '_count' && name !== '_offset') {
      out.append(name, value);
    }
  }
  out.set('_count', String(count));
  if (offset > 0) {
    out.set('_offset', String(offset));
  }
  return out;
}

/**
 * Adds self, first, previous, next and last links (absolute, under the public base) to a
 * searchset: https://hl7.org/fhir/R4/http.html#paging
 */
export function addPagingLinks(bundle, { searchUrl, params, count, offset }) {
  const total = bundle.total ?? 0;
  const link = (relation, at) => ({
    relation,
    url: `${searchUrl}?${withWindow(params, { count, offset: at })}`,
  });
  const links = [link('self', offset)];
  if (count > 0) {
    links.push(link('first', 0));
    if (offset > 0) {
      links.push(link('previous', Math.max(0, offset - count)));
    }
    if (offset + count < total) {
      links.push(link('next', offset + count));
    }
    if (total > 0) {
      links.push(link('last', Math.floor((total - 1) / count) * count));
    }
  }
  bundle.link = links;
}
