// Reliability, round two (issue 11), against real registries (Debian's docker-registry 2.8) and small loopback
// proxies: a refused HEAD is one line and exit 3 (never a crash), --timeout and interrupts reach tag PUTs, the
// digest file and stdout failing after a push, stdin specs, and racing writers. Outcomes are read with skopeo.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, runCli, type CliResult } from '../helpers/cli.js';
import { forwardRequest, startProxy, type ProxyAction, type TestProxy } from '../helpers/proxy.js';
import { runCommand } from '../helpers/run-command.js';
import { registryAvailable, startRegistry, type SeededImage, type TestRegistry } from '../helpers/registry.js';

const BIN = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'bin', 'manifest.js');
const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);

const sha256 = (bytes: string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Writes a spec pushing `sources` ("host/repo:tag") to `target`, with extra tags. */
async function writeSpec(dir: string, name: string, target: string, sources: readonly string[], tags: readonly string[] = []): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, specText(target, sources, tags));
  return file;
}

function specText(target: string, sources: readonly string[], tags: readonly string[] = []): string {
  return [`image: ${target}`, ...(tags.length === 0 ? [] : [`tags: [${tags.join(', ')}]`]), 'manifests:', ...sources.map((s) => `  - image: ${s}`), ''].join('\n');
}

/** The raw bytes skopeo reads for `reference` ("host/repo:tag"), or undefined when it finds nothing. */
async function tagState(registry: TestRegistry, reference: string): Promise<string | undefined> {
  const r = await registry.skopeo('inspect', ['--raw', `docker://${reference}`]);
  return r.code === 0 ? r.stdout : undefined;
}

describe('refused credentials are exit 3 in one line, never a crash (TLS + basic auth)', { skip: skipReason, timeout: 240_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let images: SeededImage[];
  const wrong = (args: string[], extra: { env?: Record<string, string> } = {}): Promise<CliResult> =>
    runCli(['--ca-file', registry.caFile ?? '', '--username', registry.username ?? '', '--password-stdin', ...args], { stdin: 'nope\n', ...extra });

  before(async () => {
    registry = await startRegistry('basic');
    dir = await mkdtemp(join(tmpdir(), 'manifest-rel-auth-'));
    images = [
      await registry.seedImage({ repository: 'src/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } }),
      await registry.seedImage({ repository: 'src/app', tag: 'arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
    ];
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const sources = (): string[] => images.map((img) => `${registry.host}/src/app:${img.tag ?? ''}`);

  test('pushml with a wrong password: exit 3, one line naming the credentials, no tag', async () => {
    const spec = await writeSpec(dir, 'wrong', `${registry.host}/dst/app:1`, sources(), ['latest']);
    const r = await wrong(['pushml', spec]);
    assertOneLineError(r, 3, /refused the credentials from --username and --password-stdin/);
    assert.match(r.stderr, /hint: check the credentials/);
    assert.equal(await tagState(registry, `${registry.host}/dst/app:1`), undefined);
  });

  test('push from-args with a wrong password: exit 3, one line', async () => {
    const r = await wrong(['push', 'from-args', '--platforms', 'linux/amd64,linux/arm64', '--template', `${registry.host}/src/app:ARCH`, '--target', `${registry.host}/dst/args:1`]);
    assertOneLineError(r, 3, /refused the credentials/);
    assert.equal(await tagState(registry, `${registry.host}/dst/args:1`), undefined);
  });

  test('a batch with a wrong password: each spec reports exit 3 in one line, the run exits 3', async () => {
    const a = await writeSpec(dir, 'batch-a', `${registry.host}/dst/batch:a`, sources());
    const b = await writeSpec(dir, 'batch-b', `${registry.host}/dst/batch:b`, sources());
    const r = await wrong(['pushml', a, b]);
    assert.equal(r.code, 3, r.stderr);
    const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('  hint: '));
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0] ?? '', new RegExp(`^manifest: ${registry.host}/dst/batch:a: .*refused the credentials`));
    assert.match(lines[1] ?? '', new RegExp(`^manifest: ${registry.host}/dst/batch:b: .*refused the credentials`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test('a wrong "auth" in config.json: exit 3, one line naming the file', async () => {
    const cfg = join(dir, 'docker');
    await rm(cfg, { recursive: true, force: true });
    await mkdir(cfg);
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${registry.username ?? ''}:nope`).toString('base64') } } }));
    const spec = await writeSpec(dir, 'cfg', `${registry.host}/dst/cfg:1`, sources());
    const r = await runCli(['--ca-file', registry.caFile ?? '', '--docker-cfg', cfg, 'pushml', spec]);
    assertOneLineError(r, 3, /refused the credentials from .*config\.json/);
  });

  for (const c of [
    { status: 403, code: 3, pattern: /denied/ },
    { status: 400, code: 5, pattern: /HEAD .*: 400/ },
    { status: 503, code: 6, pattern: /HEAD .*: 503/ },
  ]) {
    test(`a registry answering HEAD with ${c.status}${c.status === 503 ? ' after the retries' : ''}: exit ${c.code}, one line`, async () => {
      const proxy = await startProxy(registry.url, (req): ProxyAction | undefined => (req.method === 'HEAD' && /\/manifests\//.test(req.url ?? '')
        ? { respond: { status: c.status, headers: { 'content-type': 'application/json' } } }
        : undefined), { ca: await readFile(registry.caFile ?? '', 'utf8') });
      try {
        const spec = await writeSpec(dir, `head-${c.status}`, `${proxy.host}/dst/head:${c.status}`, images.map((img) => `${proxy.host}/src/app:${img.tag ?? ''}`));
        const r = await runCli(['--plain-http', '--username', registry.username ?? '', '--password-stdin', 'pushml', spec], { stdin: `${registry.password ?? ''}\n` });
        assertOneLineError(r, c.code, c.pattern);
        assert.equal(await tagState(registry, `${registry.host}/dst/head:${c.status}`), undefined);
      } finally {
        await proxy.stop();
      }
    });
  }
});

describe('--timeout and interrupts reach tag PUTs that never get an answer', { skip: skipReason, timeout: 240_000 }, () => {
  let registry: TestRegistry;
  let proxy: TestProxy;
  let dir: string;
  let sources: string[];

  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-rel-stall-'));
    // A PUT of a tag starting with "stall" is held forever: the registry behind never sees it.
    proxy = await startProxy(registry.url, (req): ProxyAction | undefined => (req.method === 'PUT' && /\/manifests\/stall[^/]*$/.test(req.url ?? '')
      ? { handle: () => undefined }
      : undefined));
    const images = [
      await registry.seedImage({ repository: 'src/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } }),
      await registry.seedImage({ repository: 'src/app', tag: 's390x', platform: { os: 'linux', architecture: 's390x' } }),
    ];
    sources = images.map((img) => `${proxy.host}/src/app:${img.tag ?? ''}`);
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const putsOf = (repository: string, tag: string): number => proxy.requests.filter((q) => q.method === 'PUT' && q.url === `/v2/${repository}/manifests/${tag}`).length;

  test('every tag stalled under --timeout 6s: exit 6 within the grace period, the message names the deadline, no tag set, nothing retried', async () => {
    const spec = await writeSpec(dir, 'stall-all', `${proxy.host}/dst/all:stall-1`, sources, ['stall-2']);
    // Before, this run took 2 tags x 5 attempts x 60 s; the CLI is killed at 60 s here.
    const r = await runCli(['--plain-http', '--timeout', '6s', 'pushml', spec], { timeoutMs: 60_000 });
    assertOneLineError(r, 6, /^manifest: pushing tag stall-1 \(still unanswered 5 s after the push was stopped\): PUT \S+\/manifests\/stall-1: the --timeout of 6s ran out$/);
    assert.match(r.stderr, /hint: the command ran out of the time --timeout allows/);
    assert.equal(r.text, '');
    assert.equal(await tagState(registry, `${registry.host}/dst/all:stall-1`), undefined);
    assert.equal(await tagState(registry, `${registry.host}/dst/all:stall-2`), undefined);
    assert.equal(putsOf('dst/all', 'stall-1'), 1, 'no retry after the deadline');
    assert.equal(putsOf('dst/all', 'stall-2'), 1, 'no retry after the deadline');
  });

  test('one tag stalled under --timeout: exit 7, the Digest line, the tags done and not done', async () => {
    const spec = await writeSpec(dir, 'stall-one', `${proxy.host}/dst/one:good`, sources, ['stall-x']);
    const r = await runCli(['--plain-http', '--timeout', '6s', 'pushml', spec], { timeoutMs: 60_000 });
    const digest = /^Digest: (sha256:[0-9a-f]{64}) [0-9]+\n$/.exec(r.text)?.[1];
    assert.ok(digest, `a Digest line: ${r.text}`);
    assertOneLineError(r, 7, new RegExp(`^manifest: pushed ${digest} [0-9]+ as good but not as stall-x: pushing tag stall-x .*the --timeout of 6s ran out$`));
    assert.ok(await tagState(registry, `${registry.host}/dst/one:good`) !== undefined, 'good is set');
    assert.equal(await tagState(registry, `${registry.host}/dst/one:stall-x`), undefined);
  });

  test('SIGINT while a tag PUT stalls: the first signal ends the run after the grace period, exit 130 with the partial report', async () => {
    const spec = await writeSpec(dir, 'stall-int', `${proxy.host}/dst/int:good`, sources, ['stall-int']);
    const r = await runCli(['--plain-http', 'pushml', spec], {
      timeoutMs: 60_000,
      onSpawn: (child) => {
        // Signal once the stalled PUT has reached the proxy (checked every 50 ms, for at most 30 s).
        let polls = 0;
        const poll = setInterval(() => {
          if (putsOf('dst/int', 'stall-int') > 0 || ++polls > 600) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 50);
      },
    });
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.text, /^Digest: sha256:[0-9a-f]{64} [0-9]+\n$/);
    assert.match(r.stderr, /^manifest: pushed sha256:[0-9a-f]{64} [0-9]+ as good but not as stall-int: pushing tag stall-int \(still unanswered 5 s after the push was stopped\): .*interrupted\n/);
    assert.ok(await tagState(registry, `${registry.host}/dst/int:good`) !== undefined, 'good is set');
  });
});

/** Runs the CLI with stdout going to `path` (a file or /dev/full) instead of a pipe; stderr is collected. */
function runCliToFile(args: readonly string[], path: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const fd = openSync(path, 'w');
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent-home' }, stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    const err: Buffer[] = [];
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

describe('--digest-file and stdout: checked before the push, a failure after it says the push is done (exit 8)', { skip: skipReason, timeout: 240_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let sources: string[];
  const cli = (args: string[]): Promise<CliResult> => runCli(['--plain-http', ...args]);

  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-rel-digest-'));
    const image = await registry.seedImage({ repository: 'src/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } });
    sources = [`${registry.host}/src/app:${image.tag ?? ''}`];
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('a directory as --digest-file: exit 2 before anything is pushed', async () => {
    const spec = await writeSpec(dir, 'isdir', `${registry.host}/dst/isdir:1`, sources);
    const target = join(dir, 'a-directory');
    await mkdir(target);
    const r = await cli(['pushml', '--digest-file', target, spec]);
    assertOneLineError(r, 2, /--digest-file .*a-directory: it is a directory; nothing was pushed/);
    assert.equal(await tagState(registry, `${registry.host}/dst/isdir:1`), undefined);
  });

  test('a read-only --digest-file: exit 2 before anything is pushed, the file keeps its digest', async () => {
    const spec = await writeSpec(dir, 'readonly', `${registry.host}/dst/readonly:1`, sources);
    const file = join(dir, 'readonly.txt');
    await writeFile(file, 'sha256:old\n');
    await chmod(file, 0o444);
    const r = await cli(['pushml', '--digest-file', file, spec]);
    assertOneLineError(r, 2, /--digest-file .*readonly\.txt: the file is read-only; nothing was pushed/);
    assert.equal(await readFile(file, 'utf8'), 'sha256:old\n');
    assert.equal(await tagState(registry, `${registry.host}/dst/readonly:1`), undefined);
  });

  test('--digest-file replaces the old digest whole, and a failed push leaves it (and no temporary file)', async () => {
    const file = join(dir, 'digest.txt');
    await writeFile(file, 'sha256:old\n');
    const bad = await writeSpec(dir, 'missing', `${registry.host}/dst/missing:1`, [`${registry.host}/src/app:gone`]);
    const failed = await cli(['pushml', '--digest-file', file, bad]);
    assert.equal(failed.code, 4, failed.stderr);
    assert.equal(await readFile(file, 'utf8'), 'sha256:old\n');
    const spec = await writeSpec(dir, 'good', `${registry.host}/dst/good:1`, sources);
    const r = await cli(['pushml', '--quiet', '--digest-file', file, spec]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(file, 'utf8'), r.text);
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
  });

  test('--digest-file /dev/full: the push is done, exit 8 says so and names the file', async () => {
    const spec = await writeSpec(dir, 'devfull', `${registry.host}/dst/devfull:1`, sources);
    const r = await cli(['pushml', '--digest-file', '/dev/full', spec]);
    assertOneLineError(r, 8, new RegExp(`^manifest: the push is done \\(${registry.host}/dst/devfull:1 is sha256:[0-9a-f]{64}\\), but writing the digest to /dev/full failed: no space left on device \\(ENOSPC\\)$`));
    assert.match(r.text, /^Digest: sha256:[0-9a-f]{64} [0-9]+\n$/);
    assert.ok(await tagState(registry, `${registry.host}/dst/devfull:1`) !== undefined, 'the tag is set');
  });

  test('stdout on /dev/full: exit 8 naming standard output, no stack trace; the digest file is still written', async () => {
    const spec = await writeSpec(dir, 'stdoutfull', `${registry.host}/dst/stdoutfull:1`, sources);
    const file = join(dir, 'stdoutfull.txt');
    const r = await runCliToFile(['--plain-http', 'pushml', '--digest-file', file, spec], '/dev/full');
    assertOneLineError({ ...r, stdout: Buffer.alloc(0), text: '' }, 8, /^manifest: the push is done \(.*\), but writing the result to standard output failed: no space left on device \(ENOSPC\)$/);
    assert.match(await readFile(file, 'utf8'), /^sha256:[0-9a-f]{64}\n$/);
    assert.ok(await tagState(registry, `${registry.host}/dst/stdoutfull:1`) !== undefined, 'the tag is set');
  });

  test('inspect with stdout on /dev/full: exit 8, one line', async () => {
    const r = await runCliToFile(['--plain-http', 'inspect', sources[0] ?? ''], '/dev/full');
    assertOneLineError({ ...r, stdout: Buffer.alloc(0), text: '' }, 8, /^manifest: writing to standard output failed: no space left on device \(ENOSPC\)$/);
  });
});

/** Spawns the CLI with the given stdio and environment; resolves with its exit code and stderr, bounded to 60 s. */
function spawnCli(args: readonly string[], stdio: ['pipe' | 'ignore' | number, 'pipe' | 'ignore' | number, 'pipe' | 'ignore'], onSpawn?: (child: ChildProcess) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent-home' }, stdio });
    const err: Buffer[] = [];
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stderr: Buffer.concat(err).toString('utf8') });
    });
    onSpawn?.(child);
  });
}

/** Sends `signal` once, after the child has had time to start waiting (its stderr is quiet; 1.5 s). */
function signalOnceLater(child: ChildProcess, signal: NodeJS.Signals): void {
  setTimeout(() => child.kill(signal), 1_500);
}

describe('standard input, stderr and signals while waiting for input', { timeout: 120_000 }, () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'manifest-rel-stdin-')); });
  after(async () => { if (dir !== undefined) await rm(dir, { recursive: true, force: true }); });

  test('"pushml -" with --password-stdin: exit 2 up front, one line naming both', async () => {
    const r = await runCli(['--username', 'u', '--password-stdin', 'pushml', '-'], { stdin: specText('127.0.0.1:1/a:1', ['127.0.0.1:1/a:amd64']) });
    assertOneLineError(r, 2, /"-" and --password-stdin both read standard input/);
  });

  test('"pushml -" reading /dev/zero stops at the 1 MiB limit: exit 2, one line', async () => {
    const zero = openSync('/dev/zero', 'r');
    try {
      const r = await spawnCli(['pushml', '-'], [zero, 'ignore', 'pipe']);
      assertOneLineError({ ...r, stdout: Buffer.alloc(0), text: '' }, 2, /^manifest: <stdin>: is larger than 1 MiB, the limit for a spec file$/);
    } finally {
      closeSync(zero);
    }
  });

  test('one SIGTERM while "pushml -" waits for its spec: exit 130', async () => {
    // stdin is a pipe this test never writes to nor closes.
    const r = await spawnCli(['pushml', '-'], ['pipe', 'ignore', 'pipe'], (child) => signalOnceLater(child, 'SIGTERM'));
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.stderr, 'manifest: interrupted\n');
  });

  test('one SIGTERM while a spec path is a FIFO nobody writes to: exit 130', async () => {
    const fifo = join(dir, 'spec.fifo');
    const made = await runCommand('mkfifo', [fifo], { timeoutMs: 10_000 });
    assert.equal(made.code, 0, made.stderr);
    const r = await spawnCli(['pushml', fifo], ['ignore', 'ignore', 'pipe'], (child) => signalOnceLater(child, 'SIGTERM'));
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.stderr, 'manifest: interrupted\n');
  });

  test('a spec path that is a FIFO nobody writes to under --timeout: exit 6 naming the deadline', async () => {
    const fifo = join(dir, 'deadline.fifo');
    await runCommand('mkfifo', [fifo], { timeoutMs: 10_000 });
    const r = await runCli(['--timeout', '2s', 'pushml', fifo]);
    assertOneLineError(r, 6, /^manifest: reading the spec files: the --timeout of 2s ran out$/);
  });

  test('a closed stderr (`2>&1 | head -1`) keeps the exit code of the error: 2, not 1', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'image: 127.0.0.1:1/a:1\nmanifests: nope\nbogus: 1\n');
    const r = await spawnCli(['pushml', bad], ['ignore', 'ignore', 'pipe'], (child) => child.stderr?.destroy());
    assert.equal(r.code, 2);
  });

  test('--timeout over a week is refused: exit 2, one line', async () => {
    const r = await runCli(['--timeout', '999999h', 'inspect', '127.0.0.1:1/a:1']);
    assertOneLineError(r, 2, /--timeout.*at most 168h/);
  });
});

describe('racing writers: two processes pushing to one tag', { skip: skipReason, timeout: 240_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let listA: string[];
  let listB: string[];

  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-rel-race-'));
    const amd64 = await registry.seedImage({ repository: 'race/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } });
    const arm64 = await registry.seedImage({ repository: 'race/app', tag: 'arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    // Two different lists: A has one entry, B two.
    listA = [`race/app:${amd64.tag ?? ''}`];
    listB = [`race/app:${amd64.tag ?? ''}`, `race/app:${arm64.tag ?? ''}`];
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs `first` (a pushml through a proxy that holds the first request `holds` accepts) and, while that request
   * is held, `second` (a pushml straight to the registry) to the end; then lets the held request through.
   */
  async function race(holds: (method: string, url: string) => boolean, first: (proxyHost: string) => Promise<string>, second: string): Promise<{ first: CliResult; second: CliResult }> {
    let held: (() => void) | undefined;
    const upstream = new URL(registry.url);
    const proxy = await startProxy(registry.url, (req): ProxyAction | undefined => {
      if (held !== undefined || !holds(req.method ?? '', req.url ?? '')) return undefined;
      return { handle: (request, res) => { held = () => forwardRequest(request, res, upstream); } };
    });
    try {
      const running = runCli(['--plain-http', 'pushml', await first(proxy.host)]);
      for (let i = 0; i < 600 && held === undefined; i++) await sleep(50);
      const release = held as (() => void) | undefined;
      assert.ok(release !== undefined, 'the first push reached the request held');
      const secondResult = await runCli(['--plain-http', 'pushml', second]);
      release();
      return { first: await running, second: secondResult };
    } finally {
      await proxy.stop();
    }
  }

  test('a tag moved by another push while sources resolve is read again and set, not skipped on a stale read', async () => {
    // latest already names list A; then process 1 pushes A as v1 and latest, while process 2 sets latest to B.
    const seed = await writeSpec(dir, 'seed', `${registry.host}/race/app:latest`, listA.map((s) => `${registry.host}/${s}`));
    assert.equal((await runCli(['--plain-http', 'pushml', seed])).code, 0);
    const specA = (proxy: string): Promise<string> => writeSpec(dir, 'a', `${proxy}/race/app:v1`, listA.map((s) => `${proxy}/${s}`), ['latest']);
    const specB = await writeSpec(dir, 'b', `${registry.host}/race/app:latest`, listB.map((s) => `${registry.host}/${s}`));
    // Hold process 1 at its source's manifest GET: its first read of the tags is done by then.
    const { first, second } = await race((m, url) => m === 'GET' && url === `/v2/${listA[0]?.replace(':', '/manifests/') ?? ''}`, specA, specB);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(first.code, 0, first.stderr);
    const digestA = /^Digest: (sha256:[0-9a-f]{64}) /.exec(first.text)?.[1];
    for (const tag of ['v1', 'latest']) {
      const raw = await tagState(registry, `${registry.host}/race/app:${tag}`);
      assert.equal(raw === undefined ? undefined : sha256(raw), digestA, `${tag} names list A, the last push`);
    }
  });

  test('a tag moved by another push before the read-back: exit 9, naming the digest now there and who moved it', async () => {
    const specA = (proxy: string): Promise<string> => writeSpec(dir, 'c-a', `${proxy}/race/app:c1`, listA.map((s) => `${proxy}/${s}`));
    const specB = await writeSpec(dir, 'c-b', `${registry.host}/race/app:c1`, listB.map((s) => `${registry.host}/${s}`));
    // Hold process 1's read-back: the HEAD of c1 after its PUT.
    let putSeen = false;
    const { first, second } = await race((m, url) => {
      if (m === 'PUT' && url === '/v2/race/app/manifests/c1') putSeen = true;
      return putSeen && m === 'HEAD' && url === '/v2/race/app/manifests/c1';
    }, specA, specB);
    assert.equal(second.code, 0, second.stderr);
    const digestB = /^Digest: (sha256:[0-9a-f]{64}) /.exec(second.text)?.[1] ?? '';
    assertOneLineError(first, 9, new RegExp(`^manifest: post-push check: tag c1 of \\S+/race/app now points at ${digestB}, pushed by someone else after us \\(this push set (?!${digestB})sha256:[0-9a-f]{64}\\)$`));
    assert.match(first.stderr, /hint: another push set this tag after this one/);
    const raw = await tagState(registry, `${registry.host}/race/app:c1`);
    assert.equal(raw === undefined ? undefined : sha256(raw), digestB);
  });

});

describe('tokens revoked early and read-only accounts (TLS + token auth)', { skip: skipReason, timeout: 240_000 }, () => {
  let source: TestRegistry;
  let dir: string;
  let sources: string[];

  before(async () => {
    source = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-rel-token-'));
    const images = [
      await source.seedImage({ repository: 'src/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' }, layers: 2 }),
      await source.seedImage({ repository: 'src/app', tag: 'arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layers: 2 }),
    ];
    sources = images.map((img) => `${source.host}/src/app:${img.tag ?? ''}`);
  });
  after(async () => {
    await source?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs `use` against a token registry whose tokens die after 2 s (its token server says 300 s), behind a proxy
   * whose first blob upload PUT waits 4 s, past the token's real life; returns how many uploads were held and the
   * blob upload PUTs the proxy saw.
   */
  async function withEarlyRevocation(use: (front: string, target: TestRegistry) => Promise<void>): Promise<{ delayed: number; uploads: number }> {
    const target = await startRegistry('token', { tokenValiditySeconds: 2 });
    let delayed = 0;
    const upstream = new URL(target.url);
    const tls = { ca: await readFile(target.caFile ?? '', 'utf8') };
    // Upload locations name the registry itself: point them back at the proxy, so every request passes it.
    let front = '';
    const relocate = (headers: IncomingHttpHeaders): IncomingHttpHeaders => ({
      ...headers,
      ...(headers.location === undefined ? {} : { location: headers.location.replace(target.url, `http://${front}`) }),
    });
    const proxy = await startProxy(target.url, (req): ProxyAction | undefined => {
      if (req.method !== 'PUT' || !/\/blobs\/uploads\//.test(req.url ?? '') || delayed > 0) return { rewriteHeaders: relocate };
      delayed++;
      return { handle: (request, res) => { setTimeout(() => forwardRequest(request, res, upstream, relocate, { tls }), 4_000); } };
    }, tls);
    front = proxy.host;
    try {
      await use(front, target);
      return { delayed, uploads: proxy.requests.filter((q) => q.method === 'PUT' && /\/blobs\/uploads\//.test(q.url)).length };
    } finally {
      await proxy.stop();
      await target.stop();
    }
  }

  /**
   * Pushes with `command` (its arguments after the global ones, given the proxy's host) through early revocation;
   * checks exit 0, that the printed digest is what `repository`:1 holds and that skopeo reads its `arch` image.
   */
  async function pushThroughRevocation(command: (front: string) => Promise<string[]>, repository: string, arch: string): Promise<{ delayed: number; uploads: number }> {
    return withEarlyRevocation(async (front, target) => {
      const r = await runCli(['--plain-http', '--ca-file', target.caFile ?? '', '--username', target.username ?? '', '--password-stdin', ...await command(front)], { stdin: `${target.password ?? ''}\n` });
      assert.equal(r.code, 0, r.stderr);
      const digest = /^Digest: (sha256:[0-9a-f]{64}) /.exec(r.text)?.[1];
      const raw = await tagState(target, `${target.host}/${repository}:1`);
      assert.equal(raw === undefined ? undefined : sha256(raw), digest);
      const image = await target.skopeo('inspect', [`docker://${target.host}/${repository}:1`], ['--override-arch', arch, '--override-os', 'linux']);
      assert.equal(image.code, 0, image.stderr);
    });
  }

  test('a blob upload refused mid-copy (its token revoked after 2 s): a new token, the blob copied again, exit 0', async () => {
    const seen = await pushThroughRevocation(async (front) => ['pushml', '--concurrency', '1', await writeSpec(dir, 'revoked', `${front}/dst/app:1`, sources)], 'dst/app', 'arm64');
    assert.equal(seen.delayed, 1);
    assert.ok(seen.uploads > 4, `the refused upload was made again (${seen.uploads} blob PUTs for 4 blobs and 2 configs)`);
  });

  test('an upload from a local archive refused mid-copy: a new token, the blob sent again, exit 0', async () => {
    const archive = join(dir, 'linux.amd64.tar');
    const saved = await source.skopeo('copy', [`docker://${sources[0] ?? ''}`, `oci-archive:${archive}`]);
    assert.equal(saved.code, 0, saved.stderr);
    const seen = await pushThroughRevocation((front) => Promise.resolve(['push', 'archives', '--concurrency', '1', '--target', `${front}/dst/local:1`, `oci-archive:${archive}`]), 'dst/local', 'amd64');
    assert.equal(seen.delayed, 1);
    assert.ok(seen.uploads > 3, `the refused upload was made again (${seen.uploads} blob PUTs for 2 layers and a config)`);
  });

  test('an account with pull but not push: exit 3 saying it has no push access to the repository, not "check the credentials"', async () => {
    const target = await startRegistry('token', { userPush: false });
    try {
      const image = await target.seedImage({ repository: 'ro/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } });
      const spec = await writeSpec(dir, 'readonly-account', `${target.host}/ro/app:1`, [`${target.host}/ro/app:${image.tag ?? ''}`]);
      const r = await runCli(['--ca-file', target.caFile ?? '', '--username', target.username ?? '', '--password-stdin', 'pushml', spec], { stdin: `${target.password ?? ''}\n` });
      assertOneLineError(r, 3, /accepted the credentials from --username and --password-stdin, but the account has no push access to ro\/app/);
      assert.doesNotMatch(r.stderr, /check the credentials/);
      assert.match(r.stderr, /hint: the account may lack permission/);
    } finally {
      await target.stop();
    }
  });
});

describe('an entry deleted from the target after a push', { skip: skipReason, timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-rel-deleted-'));
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('a re-run is exit 5 with a hint that --force repairs it; --force does', async () => {
    const image = await registry.seedImage({ repository: 'src/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } });
    const spec = await writeSpec(dir, 'deleted', `${registry.host}/dst/app:1`, [`${registry.host}/src/app:${image.tag ?? ''}`]);
    assert.equal((await runCli(['--plain-http', 'pushml', spec])).code, 0);
    const deleted = await fetch(`${registry.url}/v2/dst/app/manifests/${image.digest}`, { method: 'DELETE' });
    assert.equal(deleted.status, 202);
    const again = await runCli(['--plain-http', 'pushml', spec]);
    assertOneLineError(again, 5, /entry .* is missing from/);
    assert.match(again.stderr, /hint: .*push with --force/);
    const forced = await runCli(['--plain-http', 'pushml', '--force', spec]);
    assert.equal(forced.code, 0, forced.stderr);
    const child = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/dst/app@${image.digest}`]);
    assert.equal(child.code, 0, child.stderr);
  });
});

describe('credential helpers and the home directory (TLS + basic auth)', { skip: skipReason, timeout: 180_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let helpers: string;
  let sources: string[];

  /** Writes an executable docker-credential-NAME shell script. */
  async function helper(name: string, body: string): Promise<void> {
    const path = join(helpers, `docker-credential-${name}`);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
  }

  /** Writes a docker config directory whose credHelpers send the registry to `name`. */
  async function configFor(name: string): Promise<string> {
    const cfg = join(dir, `cfg-${name}`);
    await mkdir(cfg, { recursive: true });
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ auths: {}, credHelpers: { [registry.host]: name } }));
    return cfg;
  }

  before(async () => {
    registry = await startRegistry('basic');
    dir = await mkdtemp(join(tmpdir(), 'manifest-rel-helpers-'));
    helpers = join(dir, 'bin');
    await mkdir(helpers);
    const images = [
      await registry.seedImage({ repository: 'src/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } }),
      await registry.seedImage({ repository: 'src/other', tag: 's390x', platform: { os: 'linux', architecture: 's390x' } }),
    ];
    sources = images.map((img) => `${registry.host}/${img.repository}:${img.tag ?? ''}`);
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({ PATH: `${helpers}:${process.env.PATH ?? '/usr/bin:/bin'}` });

  test('a helper that hangs is stopped at --timeout with its children: exit 6 naming the helper and the deadline', async () => {
    const pidFile = join(dir, 'slow.pid');
    await helper('slow', `sleep 300 &\necho $! > '${pidFile}'\nwait`);
    const spec = await writeSpec(dir, 'slow', `${registry.host}/dst/slow:1`, sources);
    const r = await runCli(['--ca-file', registry.caFile ?? '', '--docker-cfg', await configFor('slow'), '--timeout', '3s', 'pushml', spec], { env: env(), timeoutMs: 60_000 });
    assertOneLineError(r, 6, /docker-credential-slow \(named in \S+config\.json\) was still running when the --timeout of 3s ran out; it was stopped/);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      try {
        process.kill(pid, 0);
        await sleep(50);
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, `the helper's child ${pid} was stopped with it`);
  });

  test('a helper that fails silently: exit 3 saying how it ended, not an empty reason', async () => {
    await helper('mute', 'exit 3');
    const spec = await writeSpec(dir, 'mute', `${registry.host}/dst/mute:1`, sources);
    const r = await runCli(['--ca-file', registry.caFile ?? '', '--docker-cfg', await configFor('mute'), 'pushml', spec], { env: env() });
    assertOneLineError(r, 3, /docker-credential-mute \(named in \S+\) failed: it exited with code 3 and printed nothing/);
  });

  test('a helper runs once per registry: a 2-spec batch over 4 repositories asks it once', async () => {
    const countFile = join(dir, 'count.txt');
    await helper('count', `echo run >> '${countFile}'\nprintf '{"Username":"%s","Secret":"%s"}' '${registry.username ?? ''}' '${registry.password ?? ''}'`);
    const a = await writeSpec(dir, 'count-a', `${registry.host}/dst/count-a:1`, sources);
    const b = await writeSpec(dir, 'count-b', `${registry.host}/dst/count-b:1`, sources);
    const r = await runCli(['--ca-file', registry.caFile ?? '', '--docker-cfg', await configFor('count'), 'pushml', a, b], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await readFile(countFile, 'utf8')).split('\n').filter((l) => l !== '').length, 1);
  });

  test('HOME="" never reads ./.docker/config.json of the current directory', async () => {
    const cwd = join(dir, 'cwd');
    await mkdir(join(cwd, '.docker'), { recursive: true });
    await writeFile(join(cwd, '.docker', 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${registry.username ?? ''}:${registry.password ?? ''}`).toString('base64') } } }));
    const r = await runCli(['--ca-file', registry.caFile ?? '', 'inspect', sources[0] ?? ''], { env: { HOME: '' }, cwd });
    assertOneLineError(r, 3, /anonymous access|none were found/);
  });
});

describe('proxies from the environment (TLS + basic auth)', { skip: skipReason, timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let image: SeededImage;
  before(async () => {
    registry = await startRegistry('basic');
    image = await registry.seedImage({ repository: 'px/app', tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' } });
  });
  after(async () => { await registry?.stop(); });

  const inspect = (env: Record<string, string>): Promise<CliResult> => runCli(['--ca-file', registry.caFile ?? '', '-u', registry.username ?? '', '--password-stdin', 'inspect', '--raw', `${registry.host}/px/app:${image.tag ?? ''}`], {
    stdin: `${registry.password ?? ''}\n`,
    env,
  });

  test('a proxy refusing connections is named as the proxy, not as the registry: exit 6 with a NO_PROXY hint', async () => {
    const r = await inspect({ HTTPS_PROXY: 'http://127.0.0.1:1' });
    assertOneLineError(r, 6, new RegExp(`the proxy 127\\.0\\.0\\.1:1 \\(HTTPS_PROXY\\) refused the connection, on the way to ${registry.host}$`));
    assert.match(r.stderr, /hint: check HTTPS_PROXY, or list .* in NO_PROXY/);
  });

  test('a proxy variable that is not a URL: exit 2 naming the variable, not echoing it', async () => {
    const r = await inspect({ HTTPS_PROXY: '::not a url::' });
    assertOneLineError(r, 2, /: HTTPS_PROXY is not a proxy URL \(expected http:\/\/host:port\)$/);
    assert.doesNotMatch(r.stderr, /not a url::/);
  });

  test('NO_PROXY in CIDR form (127.0.0.0/8) exempts the registry: exit 0 with a dead proxy set', async () => {
    const r = await inspect({ HTTPS_PROXY: 'http://127.0.0.1:1', NO_PROXY: 'example.com, 127.0.0.0/8' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(r.text), image.digest);
  });
});
