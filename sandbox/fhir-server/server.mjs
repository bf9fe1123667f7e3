/** Sandbox EHR FHIR R4 server: Medplum's FHIR router over an indexed in-memory repository. */
// The version check runs before Medplum is imported: under an older Node its import already fails.
const MIN_NODE = [22, 18];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  process.stderr.write(
    `fhir-server: Node ${process.versions.node} is too old for @medplum (needs ${MIN_NODE.join('.')}+); ` +
      'run sandbox/fhir-server/node_modules/.bin/node, which `npm ci` installs there\n',
  );
  process.exit(1);
}

const { main, USAGE } = await import('./lib/main.mjs');
main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`fhir-server: ${err.message ?? err}\n${USAGE}\n`);
  process.exit(1);
});
