/** Starts the sandbox FHIR server: parses options, loads definitions and data, listens. */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FhirRouter } from '@medplum/fhir-router';
import { loadDefinitions, narrowSearchExpressions } from './definitions.mjs';
import { createListener } from './http.mjs';
import { loadBundleFile } from './loader.mjs';
import { SandboxRepository } from './repository.mjs';
import { RESOURCE_TYPES } from './resource-types.mjs';

export const USAGE = `usage: node server.mjs --port P [--host 127.0.0.1] [--load BUNDLE.json]
                      [--public-base URL] [--no-validate]`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      load: { type: 'string' },
      'public-base': { type: 'string' },
      'no-validate': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const port = Number.parseInt(values.port ?? '', 10);
  if (!/^\d+$/.test(values.port ?? '') || port > 65535) {
    throw new Error('--port must be a port number (0 picks a free one)');
  }
  return { ...values, port };
}

function listen(server, host, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address().port));
  });
}

/** Runs the server until SIGTERM or SIGINT. */
export async function main(argv) {
  const options = parseOptions(argv);
  const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  loadDefinitions(RESOURCE_TYPES);
  narrowSearchExpressions(RESOURCE_TYPES);
  const repo = new SandboxRepository({ validate: !options['no-validate'] });
  const loaded = options.load ? await loadBundleFile(repo, options.load) : 0;
  const startedAt = new Date().toISOString();
  const ctx = { router: new FhirRouter(), repo, defaultBase: undefined, startedAt, version };
  const server = createServer(createListener(ctx));
  const port = await listen(server, options.host, options.port);
  const localBase = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/fhir`;
  // Requests wait for this continuation: it runs before the event loop takes any connection.
  ctx.defaultBase = (options['public-base'] ?? localBase).replace(/\/+$/, '');
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => server.close(() => process.exit(0)).closeAllConnections());
  }
  // One line on stdout, read by sandbox/fhirserver.py: the server takes requests from here on.
  process.stdout.write(
    `fhir-server ready on ${localBase} (${loaded} resources, ${Math.round(performance.now())} ms)\n`,
  );
}
