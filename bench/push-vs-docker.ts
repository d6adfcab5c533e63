// Benchmark (not a test): wall time of pushing an 8-platform manifest list with `manifest pushml` against the
// docker CLI (`docker manifest create` + `docker manifest push`) measured in the same run, on one local plain-HTTP
// registry: first on loopback, then through a proxy that adds 25 ms each way (50 ms round trip), where the number
// of sequential round trips decides the time. Both tools run as users run them, as fresh processes, so start-up
// cost counts. Targets from the issue: manifest/docker ≤ 1.0 on loopback and ≤ 0.15 through the proxy.
//
//   node dist/bench/push-vs-docker.js [--runs N] [--no-proxy]
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { trackDir, untrackDir } from '../test/helpers/exit-cleanup.js';
import { registryAvailable, startRegistry } from '../test/helpers/registry.js';
import type { TestRegistry } from '../test/helpers/registry.js';
import { runCommand } from '../test/helpers/run-command.js';
import type { CommandResult } from '../test/helpers/run-command.js';
import { EIGHT_PLATFORMS } from '../test/helpers/platforms.js';
import { sequentialRounds, startDelayProxy } from './delay-proxy.js';
import type { DelayProxy, ProxyEvent } from './delay-proxy.js';

const PLATFORMS = EIGHT_PLATFORMS;
const REPOSITORY = 'bench/app';
const WARM_UPS = 1;
const ONE_WAY_DELAY_MS = 25;
/** Every spawned process is killed (SIGKILL, by its PID) after this long; a hang must not stall the benchmark. */
const PROCESS_TIMEOUT_MS = 120_000;
const TARGETS = { loopback: 1.0, proxy: 0.15 } as const;
const LIST_TYPES = ['application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.oci.image.index.v1+json'];

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifestBin = join(root, 'bin', 'manifest.js');
const resultsFile = join(root, 'bench', 'results-push.json');

interface Run {
  ms: number;
  /** docker only: the two processes' share of ms. */
  createMs?: number;
  pushMs?: number;
  /** Through the proxy only. */
  rounds?: number;
  requests?: number;
  connections?: number;
}

interface Series {
  label: string;
  runs: Run[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Through the proxy: the first measured run's exchanges, "start-end kind status url" in ms from its start. */
  trace?: string[];
}

interface ScenarioResult {
  name: 'loopback' | 'proxy';
  oneWayDelayMs: number;
  series: Series[];
  /** median manifest (new tag) / median docker; undefined without docker. */
  ratio?: number;
  target: number;
}

/** What one timed invocation of a tool produced. */
interface Pushed {
  digest: string;
  run: Run;
}

/** Where one scenario pushes to and how its traffic is observed. */
interface Setup {
  registry: TestRegistry;
  /** The host the tools are pointed at: the registry itself or the proxy in front of it. */
  host: string;
  proxy: DelayProxy | undefined;
  scratch: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? NaN;
  return sorted.length % 2 === 1 ? upper : (upper + (sorted[middle - 1] ?? NaN)) / 2;
}

function summarise(label: string, runs: Run[], trace?: string[]): Series {
  const times = runs.map((r) => r.ms);
  return { label, runs, medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times), ...(trace !== undefined && { trace }) };
}

/** A private HOME and DOCKER_CONFIG per invocation: the user's config (credential helpers, proxies) stays out, and docker starts with no local manifest-list state. */
async function freshEnvironment(scratch: string): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(scratch, 'home-'));
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, DOCKER_CONFIG: join(home, '.docker') };
}

async function timed(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; result: CommandResult }> {
  const start = performance.now();
  const result = await runCommand(file, args, { timeoutMs: PROCESS_TIMEOUT_MS, env });
  const ms = performance.now() - start;
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.code}:\n${result.stderr.trim()}`);
  return { ms, result };
}

/** manifest-tool's YAML; values are JSON strings, which YAML reads as double-quoted scalars. */
function specYaml(host: string, tag: string): string {
  const lines = [`image: ${JSON.stringify(`${host}/${REPOSITORY}:${tag}`)}`, 'manifests:'];
  for (const [i, p] of PLATFORMS.entries()) {
    lines.push(`  - image: ${JSON.stringify(`${host}/${REPOSITORY}:1-${i}`)}`, '    platform:');
    lines.push(`      architecture: ${JSON.stringify(p.architecture)}`, `      os: ${JSON.stringify(p.os)}`);
    if (p.variant !== undefined) lines.push(`      variant: ${JSON.stringify(p.variant)}`);
    if (p['os.version'] !== undefined) lines.push(`      osversion: ${JSON.stringify(p['os.version'])}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Rounds, requests and connections the proxy saw since its last reset (nothing on loopback). */
function traffic(proxy: DelayProxy | undefined): Pick<Run, 'rounds' | 'requests' | 'connections'> {
  if (proxy === undefined) return {};
  const events = proxy.events();
  return {
    rounds: sequentialRounds(events),
    requests: events.filter((e) => e.kind !== 'connect').length,
    connections: events.filter((e) => e.kind === 'connect').length,
  };
}

function traceOf(events: readonly ProxyEvent[]): string[] {
  const sorted = [...events].sort((a, b) => a.start - b.start || a.connection - b.connection);
  const origin = sorted[0]?.start ?? 0;
  return sorted.map((e) => `${(e.start - origin).toFixed(0)}-${(e.end - origin).toFixed(0)} c${e.connection} ${e.kind} ${e.status || ''} ${e.url}`.replace(/ +/g, ' ').trim());
}

async function pushWithManifest(setup: Setup, tag: string): Promise<Pushed> {
  const env = await freshEnvironment(setup.scratch);
  const spec = join(env['HOME'] ?? setup.scratch, 'spec.yaml');
  await writeFile(spec, specYaml(setup.host, tag));
  setup.proxy?.reset();
  const { ms, result } = await timed(process.execPath, [manifestBin, 'pushml', '--plain-http', spec], env);
  const digest = /^Digest: (sha256:[0-9a-f]{64}) \d+$/m.exec(result.stdout)?.[1];
  if (digest === undefined) throw new Error(`manifest printed no digest:\n${result.stdout}${result.stderr}`);
  return { digest, run: { ms, ...traffic(setup.proxy) } };
}

async function pushWithDocker(setup: Setup, tag: string): Promise<Pushed> {
  const env = await freshEnvironment(setup.scratch);
  const target = `${setup.host}/${REPOSITORY}:${tag}`;
  const sources = PLATFORMS.map((_, i) => `${setup.host}/${REPOSITORY}:1-${i}`);
  setup.proxy?.reset();
  // No `docker manifest annotate`: docker copies os, architecture, variant and os.version from each image's config,
  // which verifyList checks below.
  const create = await timed('docker', ['manifest', 'create', '--insecure', target, ...sources], env);
  const push = await timed('docker', ['manifest', 'push', '--insecure', target], env);
  const digest = /^(sha256:[0-9a-f]{64})$/m.exec(push.result.stdout)?.[1];
  if (digest === undefined) throw new Error(`docker manifest push printed no digest:\n${push.result.stdout}${push.result.stderr}`);
  return { digest, run: { ms: create.ms + push.ms, createMs: create.ms, pushMs: push.ms, ...traffic(setup.proxy) } };
}

/**
 * The platform as a comparable string. arm64's variant v8 is its default: manifest leaves it out (containerd's
 * normalisation), docker copies it from the image config; both mean the same platform.
 */
function platformKey(p: { os?: unknown; architecture?: unknown; variant?: unknown; 'os.version'?: unknown }): string {
  const variant = p.architecture === 'arm64' && p.variant === 'v8' ? null : (p.variant ?? null);
  return JSON.stringify([p.os, p.architecture, variant, p['os.version'] ?? null]);
}

/** Checks bytes against the printed digest and the expected eight platforms; throws otherwise. */
function checkList(source: string, tag: string, bytes: Buffer, digest: string): void {
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== digest) throw new Error(`${source}: ${tag} is ${actual}, the tool printed ${digest}`);
  const list = JSON.parse(bytes.toString('utf8')) as { manifests?: { platform?: Record<string, unknown> }[] };
  const got = (list.manifests ?? []).map((m) => platformKey(m.platform ?? {})).sort();
  const want = PLATFORMS.map(platformKey).sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${source}: ${tag} has platforms ${got.join(' ')}, expected ${want.join(' ')}`);
}

/**
 * Reads the pushed tag back from the registry itself (not through the proxy) so that a tool that printed a digest
 * but pushed nothing, or pushed the wrong list, fails the benchmark instead of looking fast.
 */
async function verifyList(registry: TestRegistry, tag: string, digest: string): Promise<void> {
  const response = await fetch(`${registry.url}/v2/${REPOSITORY}/manifests/${tag}`, {
    headers: { accept: LIST_TYPES.join(', ') },
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status !== 200) throw new Error(`GET ${tag}: ${response.status}`);
  checkList('registry', tag, Buffer.from(await response.arrayBuffer()), digest);
}

/** The same check once per tool with an independent client, skopeo. */
async function verifyWithSkopeo(registry: TestRegistry, tag: string, digest: string): Promise<void> {
  const result = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/${REPOSITORY}:${tag}`]);
  if (result.code !== 0) throw new Error(`skopeo inspect --raw ${tag}: ${result.stderr.trim()}`);
  checkList('skopeo', tag, Buffer.from(result.stdout, 'utf8'), digest);
}

async function dockerAvailable(): Promise<string | undefined> {
  const result = await runCommand('docker', ['version', '--format', '{{.Client.Version}}'], { timeoutMs: 30_000, env: { PATH: process.env['PATH'] ?? '' } });
  // Without a daemon `docker version` still prints the client version, and exits 1.
  const version = /^\d+\.\d+\S*/m.exec(result.stdout)?.[0];
  if (version === undefined) return undefined;
  const help = await runCommand('docker', ['manifest', '--help'], { timeoutMs: 30_000, env: { PATH: process.env['PATH'] ?? '' } });
  return help.code === 0 ? version : undefined;
}

/**
 * Runs one scenario: warm-ups, then `runs` alternating pushes to new tags (alternating which tool goes first, so
 * neither always benefits from the other having warmed the registry's caches), then manifest's re-push of an
 * unchanged tag, which it may answer without a PUT and is therefore reported apart.
 */
async function runScenario(name: 'loopback' | 'proxy', setup: Setup, runs: number, withDocker: boolean): Promise<ScenarioResult> {
  const tag = (tool: string, i: number | string): string => `${tool}-${name}-${i}`;
  const manifestRuns: Run[] = [];
  const dockerRuns: Run[] = [];
  const unchangedRuns: Run[] = [];
  let manifestTrace: string[] | undefined;
  let dockerTrace: string[] | undefined;

  for (let w = 0; w < WARM_UPS; w++) {
    const m = await pushWithManifest(setup, tag('m', `warm${w}`));
    await verifyList(setup.registry, tag('m', `warm${w}`), m.digest);
    if (w === 0) await verifyWithSkopeo(setup.registry, tag('m', `warm${w}`), m.digest);
    if (withDocker) {
      const d = await pushWithDocker(setup, tag('d', `warm${w}`));
      await verifyList(setup.registry, tag('d', `warm${w}`), d.digest);
      if (w === 0) await verifyWithSkopeo(setup.registry, tag('d', `warm${w}`), d.digest);
    }
  }

  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 || !withDocker ? ['m', 'd'] : ['d', 'm'];
    for (const tool of order) {
      if (tool === 'm') {
        const m = await pushWithManifest(setup, tag('m', i));
        manifestRuns.push(m.run);
        if (i === 0 && setup.proxy !== undefined) manifestTrace = traceOf(setup.proxy.events());
        await verifyList(setup.registry, tag('m', i), m.digest);
      } else if (withDocker) {
        const d = await pushWithDocker(setup, tag('d', i));
        dockerRuns.push(d.run);
        if (i === 0 && setup.proxy !== undefined) dockerTrace = traceOf(setup.proxy.events());
        await verifyList(setup.registry, tag('d', i), d.digest);
      }
    }
  }

  // Same spec as the warm-up: the tag already points at this exact list.
  for (let i = 0; i < runs; i++) {
    const m = await pushWithManifest(setup, tag('m', 'warm0'));
    unchangedRuns.push(m.run);
    await verifyList(setup.registry, tag('m', 'warm0'), m.digest);
  }

  const series = [summarise('manifest pushml (new tag)', manifestRuns, manifestTrace)];
  if (withDocker) series.push(summarise('docker manifest create + push (new tag)', dockerRuns, dockerTrace));
  series.push(summarise('manifest pushml (tag unchanged)', unchangedRuns));
  const manifestSeries = series[0];
  const dockerSeries = withDocker ? series[1] : undefined;
  const ratio = manifestSeries !== undefined && dockerSeries !== undefined ? manifestSeries.medianMs / dockerSeries.medianMs : undefined;
  return { name, oneWayDelayMs: setup.proxy === undefined ? 0 : ONE_WAY_DELAY_MS, series, ...(ratio !== undefined && { ratio }), target: TARGETS[name] };
}

/** Start-up alone (`--version`): the floor under every manifest figure on loopback. */
async function measureStartup(scratch: string, runs: number): Promise<Series> {
  const times: Run[] = [];
  for (let i = 0; i < WARM_UPS + runs; i++) {
    const { ms } = await timed(process.execPath, [manifestBin, '--version'], await freshEnvironment(scratch));
    if (i >= WARM_UPS) times.push({ ms });
  }
  return summarise('manifest --version (start-up only)', times);
}

function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function printTable(scenarios: ScenarioResult[], startup: Series, runs: number): void {
  const out: string[] = [`push of an ${PLATFORMS.length}-platform list: wall time in ms, ${runs} runs after ${WARM_UPS} warm-up`];
  out.push(`  ${'scenario'.padEnd(22)}${'tool'.padEnd(42)}${'median'.padStart(8)}${'min'.padStart(8)}${'max'.padStart(8)}${'rounds'.padStart(8)}${'reqs'.padStart(6)}${'conns'.padStart(7)}`);
  const row = (scenario: string, s: Series): void => {
    // Rounds and request counts barely vary between runs; the median run's figures stand for all.
    const counted = s.runs.filter((r) => r.rounds !== undefined);
    const pick = (k: 'rounds' | 'requests' | 'connections'): string => (counted.length === 0 ? '' : String(median(counted.map((r) => r[k] ?? 0))));
    out.push(`  ${scenario.padEnd(22)}${s.label.padEnd(42)}${formatMs(s.medianMs).padStart(8)}${formatMs(s.minMs).padStart(8)}${formatMs(s.maxMs).padStart(8)}${pick('rounds').padStart(8)}${pick('requests').padStart(6)}${pick('connections').padStart(7)}`);
  };
  row('-', startup);
  for (const sc of scenarios) {
    const label = sc.name === 'loopback' ? 'loopback' : `proxy (RTT ${2 * sc.oneWayDelayMs} ms)`;
    for (const s of sc.series) row(label, s);
  }
  for (const sc of scenarios) {
    if (sc.ratio === undefined) continue;
    const verdict = sc.ratio <= sc.target ? 'meets' : 'misses';
    out.push(`ratio manifest/docker, ${sc.name}: ${sc.ratio.toFixed(2)} (target ≤ ${sc.target}: ${verdict})`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'no-proxy': { type: 'boolean', default: false } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
    process.stderr.write(`push-vs-docker: --runs takes a whole number from 1 to 100, not ${values.runs}\n`);
    process.exitCode = 2;
    return;
  }
  if (!registryAvailable()) {
    process.stderr.write('push-vs-docker: needs docker-registry and skopeo on PATH (scripts/setup.mjs --system installs them as root); nothing measured\n');
    process.exitCode = 1;
    return;
  }
  const dockerVersion = await dockerAvailable();
  if (dockerVersion === undefined) {
    process.stdout.write('push-vs-docker: the docker CLI (with `docker manifest`) is not installed: measuring manifest alone, no ratios\n');
  }

  // A Ctrl-C still runs the 'exit' hook of test/helpers/exit-cleanup.js, which kills the registry we started and
  // removes the temp dirs.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));

  const scratch = await mkdtemp(join(tmpdir(), 'manifest-bench-push-'));
  trackDir(scratch);
  let registry: TestRegistry | undefined;
  let proxy: DelayProxy | undefined;
  try {
    registry = await startRegistry('plain');
    for (const [i, platform] of PLATFORMS.entries()) await registry.seedImage({ repository: REPOSITORY, tag: `1-${i}`, platform });
    const withDocker = dockerVersion !== undefined;
    const startup = await measureStartup(scratch, runs);
    const scenarios = [await runScenario('loopback', { registry, host: registry.host, proxy: undefined, scratch }, runs, withDocker)];
    if (values['no-proxy'] !== true) {
      proxy = await startDelayProxy(registry.url, ONE_WAY_DELAY_MS);
      scenarios.push(await runScenario('proxy', { registry, host: proxy.host, proxy, scratch }, runs, withDocker));
    }
    printTable(scenarios, startup, runs);
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      docker: dockerVersion ?? null,
      platforms: PLATFORMS.length,
      runs,
      warmUps: WARM_UPS,
      startup,
      scenarios,
    };
    await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`results written to ${resultsFile}\n`);
  } finally {
    await proxy?.stop();
    await registry?.stop();
    await rm(scratch, { recursive: true, force: true, maxRetries: 2 });
    untrackDir(scratch);
  }
}

await main();
