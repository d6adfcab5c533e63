// A release script using the library instead of the command: push the multi-platform tag from per-platform
// images named by a template, read it back, then check that it covers what a DaemonSet needs on given platforms.
//
//   npm install multiarch-manifest        (and typescript, @types/node to compile this file)
//   npx tsc --module nodenext --target es2022 --strict library.ts && node library.js r.example/app:1.4 r.example/app:1.4-ARCH
//
// Environment: PLAIN_HTTP_HOSTS=127.0.0.1:5000 for a registry without TLS; credentials come from docker's config.
import { homedir } from 'node:os';
import {
  checkWorkloads, exitCodeOf, formatPlatform, inspect, isManifestError, loadDefaultCredentials, loadWorkloads, parsePlatform, parseReference,
  pushManifestList, RegistryClient, specFromArgs, Transport,
} from 'multiarch-manifest';

const [target, template, platforms = 'linux/amd64,linux/arm64'] = process.argv.slice(2);
if (target === undefined || template === undefined) {
  console.error('usage: node library.js TARGET TEMPLATE [PLATFORMS]   (TEMPLATE names each source with OS, ARCH, VARIANT)');
  process.exit(2);
}

const client = new RegistryClient({
  transport: new Transport({ plainHttpHosts: (process.env.PLAIN_HTTP_HOSTS ?? '').split(',').filter((h) => h !== '') }),
  credentials: loadDefaultCredentials({ env: process.env, homeDir: homedir() }),
});
try {
  const pushed = await pushManifestList(specFromArgs({ platforms, template, target }), { client });
  console.log(`pushed ${pushed.reference} ${pushed.digest}`);

  const seen = await inspect(parseReference(target), { client });
  for (const entry of seen.manifests ?? []) console.log(`  ${formatPlatform(entry.platform)} ${entry.digest}`);

  // The same check as `manifest check --platforms …`, on a DaemonSet written here.
  const daemonSet = `
kind: DaemonSet
metadata: {name: agent}
spec: {template: {spec: {containers: [{name: agent, image: "${target}"}]}}}
`;
  const { workloads } = loadWorkloads([{ file: 'agent.yaml', text: daemonSet }]);
  const result = await checkWorkloads(workloads, {
    client,
    platforms: [...platforms.split(','), 'linux/s390x'].map((p) => parsePlatform(p)),
  });
  for (const container of result.workloads.flatMap((w) => w.containers)) {
    console.log(`  DaemonSet agent lacks: ${container.missing.map(formatPlatform).join(', ') || 'nothing'}`);
  }
} catch (err) {
  if (!isManifestError(err)) throw err;
  console.error(`${err.code}: ${err.message}`);
  process.exitCode = exitCodeOf(err.code);
} finally {
  await client.close();
}
