// Progress and colour on a real pseudo-terminal (util-linux `script`), and none when piped, under CI=true, with
// --no-progress or NO_COLOR: stdout stays the result, stderr the talk.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { isOnPath, registryAvailable, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCommand } from '../helpers/run-command.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const skipReason = !registryAvailable() ? 'docker-registry or skopeo is not installed (npm test installs them as root)' : !isOnPath('script') ? 'script (util-linux) is not installed' : false;
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry, skopeo and script: ${skipReason}`);

const ESCAPE = '\u001b[';

/** Quotes one word for sh -c. */
const sh = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`;

describe('progress and colour on a terminal', { skip: skipReason, timeout: 240_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let spec: string;
  let workload: string;

  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-terminal-'));
    for (const architecture of ['amd64', 'arm64', 's390x']) {
      await registry.seedImage({ repository: 'tty/app', tag: `1-${architecture}`, platform: { os: 'linux', architecture } });
    }
    spec = join(dir, 'spec.yaml');
    await writeFile(spec, `image: ${registry.host}/tty/app:1\nmanifests:\n${['amd64', 'arm64', 's390x'].map((a) => `  - image: ${registry.host}/tty/app:1-${a}\n`).join('')}`);
    workload = join(dir, 'pod.yaml');
    await writeFile(workload, `kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: "${registry.host}/tty/app:1-amd64"}, {name: d, image: "${registry.host}/tty/app:1-arm64"}]}\n`);
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** Runs manifest with stdout and stderr on a pseudo-terminal; returns what the terminal showed. */
  const onTerminal = async (args: string[], env: Record<string, string> = {}): Promise<{ code: number; screen: string }> => {
    const command = [process.execPath, join(repoRoot, 'bin', 'manifest.js'), ...args].map(sh).join(' ');
    const base: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TERM: 'xterm', ...env };
    const r = await runCommand('script', ['-q', '-e', '-c', command, '/dev/null'], { env: base, timeoutMs: 120_000 });
    return { code: r.code, screen: r.stdout };
  };

  test('pushml on a terminal draws "resolving N/M" with a bar on stderr, then clears it for the Digest line', async () => {
    const r = await onTerminal(['--plain-http', 'pushml', spec]);
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, /resolving [0-3]\/3 /);
    assert.match(r.screen, /resolving 3\/3 .*\[=+\]/);
    assert.ok(r.screen.includes(`\r${ESCAPE}2KDigest: sha256:`), JSON.stringify(r.screen));
  });

  test('no progress under CI=true, with --no-progress, or when stderr is a pipe', async () => {
    for (const [args, env] of [[['--plain-http', 'pushml', spec], { CI: 'true' }], [['--plain-http', '--no-progress', 'pushml', spec], {}]] as const) {
      const r = await onTerminal([...args], { ...env });
      assert.equal(r.code, 0, r.screen);
      assert.doesNotMatch(r.screen, /resolving/);
      assert.ok(!r.screen.includes(ESCAPE), JSON.stringify(r.screen));
      assert.match(r.screen, /^Digest: sha256:/);
    }
    const piped = await runCli(['--plain-http', 'pushml', spec]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, '');
    assert.match(piped.text, /^Digest: sha256:[0-9a-f]{64} \d+\n$/);
  });

  test('--debug adds each request\'s time to answer, on stderr only', async () => {
    const r = await runCli(['--plain-http', '--debug', 'inspect', '--raw', `${registry.host}/tty/app:1-amd64`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^manifest: debug: 200 GET http:\/\/127\.0\.0\.1:\d+\/v2\/tty\/app\/manifests\/1-amd64 in \d+ ms$/m);
    assert.match(r.text, /^\{/);
  });

  test('check colours its table on a terminal; not with NO_COLOR, not when piped unless --color always', async () => {
    const args = ['--plain-http', 'check', '--platforms', 'linux/amd64', workload];
    const tty = await onTerminal(args);
    assert.equal(tty.code, 10, tty.screen);
    assert.match(tty.screen, /reading images 2\/2/);
    assert.ok(tty.screen.includes(`${ESCAPE}32mok`), JSON.stringify(tty.screen));
    assert.ok(tty.screen.includes(`${ESCAPE}31mlinux/amd64`), JSON.stringify(tty.screen));
    const noColor = await onTerminal(args, { NO_COLOR: '1' });
    assert.ok(!noColor.screen.includes(`${ESCAPE}32m`), JSON.stringify(noColor.screen));
    const never = await onTerminal(['--color', 'never', ...args]);
    assert.ok(!never.screen.includes(`${ESCAPE}32m`));
    const piped = await runCli(args);
    assert.ok(!piped.text.includes(ESCAPE));
    const always = await runCli(['--color', 'always', ...args]);
    assert.ok(always.text.includes(`${ESCAPE}32mok`));
  });
});
