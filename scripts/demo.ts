// `npm run demo`: the main job end to end on an embedded default. Starts Debian's real docker-registry on a free
// loopback port (plain HTTP, temporary storage), pushes sample per-architecture images, then runs
// `manifest pushml examples/prometheus.yaml` (pointed at that registry) and `manifest inspect` on the result, as a
// user would. `--keep` leaves the registry running until Ctrl-C.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registryAvailable, startRegistry } from '../test/helpers/registry.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin', 'manifest.js');
const keep = process.argv.includes('--keep');

function say(text: string): void {
  process.stdout.write(process.stdout.isTTY ? `\n\x1b[1m${text}\x1b[0m\n` : `\n== ${text}\n`);
}

/** Runs the real CLI and shows the command line first, as a user would type it. */
function manifest(args: string[]): number {
  process.stdout.write(`$ npx manifest ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  return result.status ?? 1;
}

async function main(): Promise<void> {
  if (!registryAvailable()) {
    process.stderr.write('demo: docker-registry or skopeo is missing; `npm run demo` installs them when run as root (apt-get install docker-registry skopeo)\n');
    process.exit(1);
  }
  say('Starting Debian\'s docker-registry on loopback …');
  const registry = await startRegistry('plain');
  const stop = async (): Promise<void> => { await registry.stop(); };
  // Ctrl-C or a plain kill: stop the registry we started and remove its storage before leaving.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => { void stop().then(() => process.exit(code)); });
  }
  try {
    process.stdout.write(`registry listening on ${registry.url} (storage in ${registry.dir})\n`);
    const repository = 'common/prometheus';
    say(`Pushing one sample image per architecture to ${registry.host}/${repository} …`);
    const platforms = [
      { tag: '1.1.3-amd64', platform: { os: 'linux', architecture: 'amd64' }, layers: 3 },
      { tag: '1.1.3-arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layers: 3 },
      { tag: '1.1.3-arm', platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, layers: 2 },
    ];
    for (const p of platforms) {
      const image = await registry.seedImage({ repository, ...p });
      process.stdout.write(`  ${registry.host}/${repository}:${p.tag}  ${image.digest}\n`);
    }
    // The example spec names a registry on 127.0.0.1:5000; this one listens on a free port instead.
    const example = join(root, 'examples', 'prometheus.yaml');
    const spec = join(registry.dir, 'prometheus.yaml');
    await writeFile(spec, (await readFile(example, 'utf8')).replaceAll('127.0.0.1:5000', registry.host));
    say(`Joining them under one tag with examples/prometheus.yaml (its registry set to ${registry.host}):`);
    let failures = 0;
    failures += manifest(['pushml', '--plain-http', spec]) === 0 ? 0 : 1;

    const ref = `${registry.host}/${repository}:1.1.3`;
    say('What does the tag resolve to, per platform?');
    failures += manifest(['inspect', '--plain-http', ref]) === 0 ? 0 : 1;
    say('What does an arm/v7 node (a Raspberry Pi) pull?');
    failures += manifest(['inspect', '--plain-http', '--platform', 'linux/arm/v7', ref]) === 0 ? 0 : 1;
    say('The same as JSON, for scripts:');
    failures += manifest(['inspect', '--plain-http', '--json', '--platform', 'linux/arm64', ref]) === 0 ? 0 : 1;

    if (failures > 0) {
      process.stderr.write(`demo: ${failures} command(s) failed\n`);
      process.exitCode = 1;
    } else if (keep) {
      say(`The registry stays up at ${registry.host}; try: npx manifest inspect --plain-http ${ref}   (Ctrl-C to stop)`);
      // The registry process is unref'd (a forgotten one must not hold a test run open): hold the loop here.
      await new Promise<void>(() => { setInterval(() => undefined, 1 << 30); });
    } else {
      say('Done: the registry is stopped and its storage removed (`npm run demo -- --keep` leaves it running).');
    }
  } finally {
    await stop();
  }
}

await main();
