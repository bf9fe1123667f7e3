/** Page windows and Bundle.link relations. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addPagingLinks, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageWindow } from '../lib/paging.mjs';

const BASE = 'https://ehr.test/fhir/Observation';

function links(total, count, offset) {
  const bundle = { resourceType: 'Bundle', type: 'searchset', total };
  const params = new URLSearchParams({ patient: 'p1', _count: String(count) });
  addPagingLinks(bundle, { searchUrl: BASE, params, count, offset });
  return Object.fromEntries(bundle.link.map((l) => [l.relation, l.url.slice(BASE.length)]));
}

test('page window defaults, caps and refuses bad numbers', () => {
  assert.deepEqual(pageWindow(new URLSearchParams()), { count: DEFAULT_PAGE_SIZE, offset: 0 });
  assert.deepEqual(pageWindow(new URLSearchParams('_count=5000&_offset=20')), {
    count: MAX_PAGE_SIZE,
    offset: 20,
  });
  for (const bad of ['_count=-1', '_count=ten', '_offset=1.5']) {
    assert.throws(() => pageWindow(new URLSearchParams(bad)), /non-negative integer/);
  }
});

test('a middle page links everywhere', () => {
  assert.deepEqual(links(25, 10, 10), {
    self: '?patient=p1&_count=10&_offset=10',
    first: '?patient=p1&_count=10',
    previous: '?patient=p1&_count=10',
    next: '?patient=p1&_count=10&_offset=20',
    last: '?patient=p1&_count=10&_offset=20',
  });
});

test('the last page has no next; an empty search has no last', () => {
  assert.equal(links(25, 10, 20).next, undefined);
  assert.deepEqual(Object.keys(links(0, 10, 0)), ['self', 'first']);
  assert.deepEqual(Object.keys(links(7, 0, 0)), ['self']);
});
