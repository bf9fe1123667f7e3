/** The HTTP front of the FHIR engine: /healthz, /fhir/metadata, and FHIR REST under /fhir. */
import { getStatus, normalizeOperationOutcome, notFound, OperationOutcomeError } from '@medplum/core';
import { capabilityStatement } from './capability.mjs';
import { addPagingLinks, pageWindow, withWindow } from './paging.mjs';
import { isSupportedType } from './resource-types.mjs';
import { partitionSearchParams, wantsStrictHandling } from './search-params.mjs';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const BASE_PATH = '/fhir';
const MAX_BODY_BYTES = 20 * 1024 * 1024;
const JSON_TYPES = new Set(['application/fhir+json', 'application/json', 'application/json-patch+json']);
const FORM_TYPE = 'application/x-www-form-urlencoded';
const IGNORED_PARAMS = new Set(['_format', '_pretty']);
// The proxy in front names the public base URL (e.g. https://localhost:8443/fhir) per request;
// links, fullUrls and Location headers are written under it.
export const PUBLIC_BASE_HEADER = 'x-forwarded-base';

/** An error answered with its own status and a one-issue OperationOutcome. */
class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  get outcome() {
    return {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: this.code, details: { text: this.message } }],
    };
  }
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': FHIR_JSON, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function publicBase(req, fallback) {
  const header = req.headers[PUBLIC_BASE_HEADER];
  if (!header) {
    return fallback;
  }
  let url;
  try {
    url = new URL(String(header));
  } catch {
    throw new HttpError(400, 'invalid', `${PUBLIC_BASE_HEADER} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new HttpError(400, 'invalid', `${PUBLIC_BASE_HEADER} must be an http(s) URL`);
  }
  return url.href.replace(/\/+$/, '');
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpError(413, 'too-costly', 'Request body is too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(req, text) {
  if (text.length === 0) {
    return { body: undefined };
  }
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType === FORM_TYPE) {
    return { form: new URLSearchParams(text) };
  }
  if (!JSON_TYPES.has(mediaType)) {
    throw new HttpError(
      415,
      'not-supported',
      `Content-Type must be application/fhir+json, not "${mediaType}"`,
    );
  }
  try {
    return { body: JSON.parse(text) };
  } catch {
    throw new HttpError(400, 'invalid', 'Request body is not valid JSON');
  }
}

function searchParamsOf(url, form) {
  const params = new URLSearchParams();
  for (const source of [url.searchParams, form ?? []]) {
    for (const [name, value] of source) {
      if (!IGNORED_PARAMS.has(name)) {
        params.append(name, value);
      }
    }
  }
  return params;
}

/**
 * The request the router gets: `Type/_search` (POST, form body) becomes the equivalent GET, and a
 * search gets its page window written out and loses (or, under strict handling, is refused for)
 * parameters the server does not know.
 */
function asRouterRequest(req, path, params, router) {
  const postSearch = req.method === 'POST' && path.endsWith('/_search');
  const method = postSearch ? 'GET' : req.method;
  const routerPath = postSearch ? path.slice(0, -'/_search'.length) : path;
  const interaction = router.find(method, routerPath)?.data?.interaction;
  if (interaction === 'search-system') {
    throw new HttpError(400, 'not-supported', 'Search across all resource types is not supported');
  }
  if (interaction !== 'search-type') {
    return { method, path: routerPath, query: params };
  }
  const { known, unknown } = partitionSearchParams(routerPath, params);
  if (unknown.length > 0 && wantsStrictHandling(req.headers.prefer)) {
    throw new HttpError(400, 'not-supported', `Unknown search parameter: ${unknown.join(', ')}`);
  }
  const window = pageWindow(known);
  return { method, path: routerPath, query: withWindow(known, window), window, searchParams: known };
}

function decorateSearchset(bundle, base, request) {
  for (const entry of bundle.entry ?? []) {
    entry.fullUrl = `${base}/${entry.resource.resourceType}/${entry.resource.id}`;
  }
  const searchUrl = request.path ? `${base}/${request.path}` : base;
  addPagingLinks(bundle, { searchUrl, params: request.searchParams, ...request.window });
}

function decorateBatchResponse(bundle, base) {
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource;
    if (resource?.id) {
      entry.fullUrl = `${base}/${resource.resourceType}/${resource.id}`;
      if (entry.response?.location) {
        entry.response.location = versionUrl(base, resource);
      }
    }
  }
}

function versionUrl(base, resource) {
  const history = resource.meta?.versionId ? `/_history/${resource.meta.versionId}` : '';
  return `${base}/${resource.resourceType}/${resource.id}${history}`;
}

function resourceHeaders(status, resource, base) {
  const headers = {};
  if (resource.resourceType !== 'Bundle' && resource.meta?.versionId) {
    headers.ETag = `W/"${resource.meta.versionId}"`;
    headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  }
  if (status === 201 && resource.id) {
    headers.Location = versionUrl(base, resource);
  }
  return headers;
}

async function handleFhir(req, res, url, ctx) {
  const base = publicBase(req, ctx.defaultBase);
  const path = url.pathname.slice(BASE_PATH.length).replace(/^\/+|\/+$/g, '');
  if (path === 'metadata') {
    if (req.method !== 'GET') {
      throw new HttpError(405, 'not-supported', 'metadata is read with GET');
    }
    return send(res, 200, capabilityStatement({ base, startedAt: ctx.startedAt, version: ctx.version }));
  }
  const resourceType = path.split('/')[0];
  if (resourceType && !isSupportedType(resourceType)) {
    throw new HttpError(404, 'not-supported', `Resource type not supported: ${resourceType}`);
  }
  const { body, form } = parseBody(req, await readBody(req));
  const request = asRouterRequest(req, path, searchParamsOf(url, form), ctx.router);
  const query = request.query.toString();
  const [outcome, resource] = await ctx.router.handleRequest(
    {
      method: request.method,
      url: query ? `${request.path}?${query}` : request.path,
      pathname: '',
      params: {},
      query: {},
      body,
      headers: req.headers,
      config: { transactions: true },
    },
    ctx.repo,
  );
  const status = getStatus(outcome);
  if (status >= 400 || !resource) {
    return send(res, status, outcome);
  }
  if (resource.resourceType === 'Bundle' && resource.type === 'searchset' && request.window) {
    decorateSearchset(resource, base, request);
  } else if (resource.resourceType === 'Bundle' && resource.type?.endsWith('-response')) {
    decorateBatchResponse(resource, base);
  }
  return send(res, status, resource, resourceHeaders(status, resource, base));
}

/** The `http.createServer` listener. ctx: { router, repo, defaultBase, startedAt, version }. */
export function createListener(ctx) {
  return async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      if (url.pathname === '/healthz') {
        return send(res, 200, { status: 'ok' }, { 'Content-Type': 'application/json' });
      }
      if (url.pathname !== BASE_PATH && !url.pathname.startsWith(BASE_PATH + '/')) {
        return send(res, 404, notFound);
      }
      return await handleFhir(req, res, url, ctx);
    } catch (err) {
      if (err instanceof HttpError) {
        return send(res, err.status, err.outcome);
      }
      const outcome = normalizeOperationOutcome(err);
      const status = err instanceof OperationOutcomeError ? getStatus(outcome) : 500;
      if (status >= 500) {
        process.stderr.write(`fhir-server: ${req.method} ${req.url}: ${err.stack ?? err}\n`);
      }
      return send(res, status, outcome);
    }
  };
}
