// Issue 5: the hostile-input corpus (test/fixtures/hostile/, over 500 inputs) through the parsers, and a sample of it
// through the CLI. Every input is accepted or refused with the project's own error (exit 2), in clear lines, never
// with a stack trace, never hanging. Nothing here asserts time: the parsers run in a worker thread stopped when one
// input runs past a generous limit (a test timeout cannot stop synchronous code), CLI runs are killed past theirs,
// and the figures (counts, outcomes, the slowest input) are printed as "hostile …" diagnostics. bench/hostile-inputs
// measures the costs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test, type TestContext } from 'node:test';
import { exitCodeOf, isManifestError, type ErrorCode } from '../../src/errors.js';
import { mapWithLimit } from '../../src/map-with-limit.js';
import { parseReference } from '../../src/ref.js';
import { specFromArgs } from '../../src/spec/from-args.js';
import { parseSpecText } from '../../src/spec/load.js';
import { runCli } from '../helpers/cli.js';
import { HOSTILE_KINDS, loadHostileCorpus, OFFLINE_REGISTRY, type HostileInput, type HostileKind, type HostileOutcome } from '../helpers/hostile-corpus.js';
import { callInWorker } from '../helpers/worker-call.js';

/** Longest one input may take in the parsers before it counts as a hang; ordinary inputs take well under 1 ms. */
const PER_INPUT_LIMIT_MS = 10_000;
/** Longest one CLI run may take before it is killed and counted as a hang; one takes about 0.2 s. */
const CLI_LIMIT_MS = 30_000;
const CLI_CONCURRENCY = 4;
/** A message line longer than this is not "one clear line" (the longest legitimate ones are about 400). */
const MAX_MESSAGE_LENGTH = 1000;
/** Every password, token and auth in the config.json fixtures contains this. */
const SECRET_MARK = 'hunter2';

const REFUSED_WITH: Readonly<Record<HostileKind, readonly ErrorCode[]>> = {
  reference: ['INVALID_REFERENCE'],
  platform: ['INVALID_PLATFORM'],
  'www-authenticate': [], // the parser skips what it cannot read: it never throws
  spec: ['INVALID_INPUT'],
  'config.json': ['INVALID_INPUT'],
};

const corpus = loadHostileCorpus();
const outcomes = new Map<HostileKind, HostileOutcome[]>();

/** Feeds every input of a kind to its parser in a worker thread (once per run; the CLI sample reuses the outcomes). */
async function outcomesOf(kind: HostileKind): Promise<HostileOutcome[]> {
  let found = outcomes.get(kind);
  if (found === undefined) {
    const module = new URL('../helpers/hostile-corpus.js', import.meta.url);
    // Each input reports its name before it runs, which also restarts the per-input limit.
    found = await callInWorker(module, 'feedHostileKind', [kind], { timeoutMs: PER_INPUT_LIMIT_MS, onProgress: () => undefined }) as HostileOutcome[];
    outcomes.set(kind, found);
  }
  return found;
}

/** Strings that must never appear in a message about a config.json: the mark, and every secret the file holds. */
function secretsOf(path: string): string[] {
  const secrets = [SECRET_MARK];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return secrets;
  }
  // A loop, not recursion: one fixture nests 100 000 arrays deep.
  const pending: [string, unknown][] = [['', parsed]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [key, value] = next;
    if (typeof value === 'string' && value.length >= 6 && ['auth', 'password', 'identitytoken', 'registrytoken'].includes(key)) {
      secrets.push(value);
      if (key === 'auth') secrets.push(...Buffer.from(value, 'base64').toString('utf8').split(':').filter((part) => part.length >= 6));
    } else if (typeof value === 'object' && value !== null) {
      pending.push(...Object.entries(value));
    }
  }
  return secrets;
}

/** What is wrong with one parser outcome: a list of one-line complaints, empty when all is well. */
function problemsOf(outcome: HostileOutcome, input: HostileInput | undefined): string[] {
  const at = `${outcome.name} ${outcome.shown}`;
  const problems: string[] = [];
  if (outcome.escaped !== undefined) problems.push(`${at}: ${outcome.escaped}`);
  if (!outcome.accepted && outcome.code !== undefined) {
    if (!REFUSED_WITH[outcome.kind].includes(outcome.code)) problems.push(`${at}: refused with ${outcome.code}, not ${REFUSED_WITH[outcome.kind].join(' or ') || 'nothing'}`);
    if (outcome.exitCode !== 2) problems.push(`${at}: exit code ${outcome.exitCode}, not 2`);
  }
  for (const line of outcome.messages) {
    if (line.length > MAX_MESSAGE_LENGTH) problems.push(`${at}: a message line of ${line.length} characters`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f-\u009f]/.test(line)) problems.push(`${at}: a control character in ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (outcome.kind === 'config.json' && input?.path !== undefined) {
    const secrets = secretsOf(input.path);
    if (outcome.messages.some((line) => secrets.some((secret) => line.includes(secret)))) problems.push(`${at}: a secret in ${JSON.stringify(outcome.messages)}`);
  }
  return problems;
}

function slowest(found: readonly HostileOutcome[]): HostileOutcome | undefined {
  return found.reduce<HostileOutcome | undefined>((a, b) => (a === undefined || b.ms > a.ms ? b : a), undefined);
}

function describeOutcomes(found: readonly HostileOutcome[]): string {
  const refused = found.filter((o) => !o.accepted && o.escaped === undefined);
  const byExit = new Map<number, number>();
  for (const o of refused) byExit.set(o.exitCode ?? 0, (byExit.get(o.exitCode ?? 0) ?? 0) + 1);
  const exits = [...byExit].sort(([a], [b]) => a - b).map(([code, n]) => `exit ${code}: ${n}`).join(', ') || 'none';
  const top = slowest(found);
  return `${found.length} inputs, ${found.filter((o) => o.accepted && o.escaped === undefined).length} accepted, ${refused.length} refused (${exits}), `
    + `stack traces ${found.filter((o) => o.escaped !== undefined).length}, hangs 0, `
    + `slowest ${top === undefined ? '-' : `${top.ms.toFixed(2)} ms: ${top.kind} ${top.shown}`}`;
}

describe('hostile inputs through the parsers', () => {
  test('the corpus holds at least 500 inputs of every kind', (t) => {
    const counts = HOSTILE_KINDS.map((kind) => `${kind} ${corpus.filter((i) => i.kind === kind).length}`);
    t.diagnostic(`hostile corpus: ${corpus.length} inputs (${counts.join(', ')})`);
    assert.ok(corpus.length >= 500, `${corpus.length} inputs`);
    for (const kind of HOSTILE_KINDS) assert.ok(corpus.some((i) => i.kind === kind), kind);
  });

  for (const kind of HOSTILE_KINDS) {
    const codes = REFUSED_WITH[kind].join(' or ') || 'never refused';
    test(`${kind}: every input accepted or refused (${codes}, exit 2) in clear lines, no secret, no stack trace, no hang`, async (t) => {
      const found = await outcomesOf(kind);
      t.diagnostic(`hostile ${kind}: ${describeOutcomes(found)}`);
      const inputs = new Map(corpus.map((input) => [input.name, input]));
      assert.equal(found.length, corpus.filter((i) => i.kind === kind).length);
      assert.deepEqual(found.flatMap((outcome) => problemsOf(outcome, inputs.get(outcome.name))), []);
    });
  }
});

/** One CLI run of the sample. */
interface CliCase {
  kind: HostileKind;
  label: string;
  args: string[];
  /** The exit code the parser's verdict implies: 2 for bad input, 6 when only 127.0.0.1:1 (nothing listening) is left. */
  expected: number;
  /** A spec refused by the parser: one `manifest: FILE:…` line per problem. */
  specIssues?: boolean;
  secrets: string[];
}

/** Picks `n` items spread evenly over `items`, keeping their order. */
function spread<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)] as T);
}

const TARGET = `${OFFLINE_REGISTRY}/hostile/app:1`;
// Inputs that found bugs: always in the sample, besides those spread over the corpus.
const ALWAYS = new Set([
  'references.json: newline inside',
  'references.json: digest algorithm constructor',
  'platforms.json: newline in os',
  'platforms.json: constructor architecture',
  'specs/key-with-newline-and-escape.yaml',
  'specs/generated-key-100KB-explicit.yaml',
  'specs/billion-laughs.yaml',
  'config-json/unquoted-password.json',
  'config-json/cred-helpers-object.json',
  'config-json/creds-store-path-traversal.json',
]);

async function cliCases(dir: string): Promise<CliCase[]> {
  const inputs = new Map(corpus.map((input) => [input.name, input]));
  const runnable = async (kind: HostileKind): Promise<{ input: HostileInput; outcome: HostileOutcome }[]> =>
    (await outcomesOf(kind)).flatMap((outcome) => {
      const input = inputs.get(outcome.name);
      // An argument cannot hold NUL; cliExit is undefined for what would reach a registry other than loopback port 1.
      if (input === undefined || outcome.cliExit === undefined || input.text?.includes('\u0000') === true) return [];
      return [{ input, outcome }];
    });
  const pick = <T extends { input: HostileInput }>(items: readonly T[], n: number): T[] => {
    const always = items.filter((item) => ALWAYS.has(item.input.name));
    return [...always, ...spread(items.filter((item) => !ALWAYS.has(item.input.name)), n - always.length)];
  };
  const cases: CliCase[] = [];

  // Only loopback port 1, where nothing listens, may ever be reached: an input the CLI accepts names nothing else
  // (checked again here, besides the corpus helper's own check), and the fixed --template, --target and
  // inspect reference are there.
  const offline = (registries: readonly string[], label: string): void => {
    assert.ok(registries.every((registry) => registry === OFFLINE_REGISTRY), `${label} names ${registries.join(', ')}`);
  };
  for (const { input, outcome } of pick(await runnable('reference'), 20)) {
    if (outcome.accepted) offline([parseReference(input.text ?? '').registry], input.name);
    cases.push({ kind: 'reference', label: input.name, args: ['inspect', '--', input.text ?? ''], expected: outcome.cliExit ?? 2, secrets: [] });
  }
  const platforms = await runnable('platform');
  for (const { input, outcome } of pick(platforms, 15)) {
    cases.push({ kind: 'platform', label: input.name, args: ['inspect', `--platform=${input.text ?? ''}`, TARGET], expected: outcome.cliExit ?? 2, secrets: [] });
  }
  for (const { input } of spread([...platforms].reverse(), 6)) {
    const template = `${OFFLINE_REGISTRY}/hostile/app-ARCH:1`;
    let expected = 6;
    try {
      specFromArgs({ platforms: input.text ?? '', template, target: TARGET });
    } catch (err) {
      expected = isManifestError(err) ? exitCodeOf(err.code) : 1;
    }
    const args = ['push', 'from-args', `--platforms=${input.text ?? ''}`, '--template', template, '--target', TARGET];
    cases.push({ kind: 'platform', label: `from-args ${input.name}`, args, expected, secrets: [] });
  }
  for (const { input, outcome } of pick(await runnable('spec'), 25)) {
    if (outcome.accepted) {
      const specs = parseSpecText(readFileSync(input.path ?? ''), { file: input.name });
      offline(specs.flatMap((spec) => [spec.target.registry, ...spec.manifests.flatMap((entry) => ('registry' in entry.image ? [entry.image.registry] : []))]), input.name);
    }
    cases.push({ kind: 'spec', label: input.name, args: ['pushml', input.path ?? ''], expected: outcome.cliExit ?? 2, specIssues: !outcome.accepted, secrets: [] });
  }
  const configs = pick(await runnable('config.json'), 15);
  for (const [index, { input, outcome }] of configs.entries()) {
    let cfg = input.path ?? '';
    // A few as docker does it: a directory holding config.json.
    if (index % 5 === 0) {
      const configDir = join(dir, `config-${index}`);
      await mkdir(configDir);
      await copyFile(cfg, join(configDir, 'config.json'));
      cfg = configDir;
    }
    cases.push({ kind: 'config.json', label: input.name, args: ['--docker-cfg', cfg, 'inspect', TARGET], expected: outcome.cliExit ?? 2, secrets: secretsOf(input.path ?? '') });
  }
  return cases;
}

/** What is wrong with one CLI run: one-line complaints, empty when all is well. */
function cliProblems(c: CliCase, r: { code: number | null; stdout: Buffer; stderr: string }): string[] {
  const at = `manifest ${c.args.map((a) => JSON.stringify(a.length > 60 ? `${a.slice(0, 60)}…` : a)).join(' ')}`;
  if (r.code === null) return [`${at}: killed after ${CLI_LIMIT_MS} ms (a hang)`];
  const problems: string[] = [];
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  // An accepted spec's unknown keys are ignored with a warning each (as manifest-tool ignores them), before the
  // one line of the push's own outcome.
  const file = c.args[c.args.length - 1] ?? '';
  // A spec's warnings (an unknown key ignored, an osversion on linux) name the file and line, one each.
  const isSpecWarning = (line: string): boolean => c.kind === 'spec' && line.startsWith(`manifest: warning: ${file}:`)
    && (/ unknown key '.*' ignored \(known keys: /.test(line) || / osversion ".*" on \S+: only Windows images are matched by it$/.test(line));
  const messages = lines.filter((line) => line.startsWith('manifest: ') && !isSpecWarning(line));
  if (r.code !== c.expected) problems.push(`${at}: exit ${r.code}, expected ${c.expected}: ${r.stderr.slice(0, 300)}`);
  if (r.stdout.length > 0) problems.push(`${at}: printed ${r.stdout.length} bytes on stdout`);
  if (lines.some((line) => /^\s+at /.test(line))) problems.push(`${at}: a stack trace`);
  if (/internal error/.test(r.stderr)) problems.push(`${at}: an internal error`);
  if (messages.length === 0 || !lines[0]?.startsWith('manifest: ')) problems.push(`${at}: stderr does not start with "manifest: ": ${r.stderr.slice(0, 200)}`);
  const stray = lines.filter((line) => !line.startsWith('manifest: ') && !line.startsWith('  hint: '));
  if (stray.length > 0) problems.push(`${at}: lines that are neither "manifest: " nor "  hint: ": ${JSON.stringify(stray.slice(0, 3))}`);
  // A spec's problems are one line each (all of them, to fix in one round); anything else is one line.
  if (c.specIssues === true) {
    if (!messages.every((line) => line.startsWith(`manifest: ${file}`))) problems.push(`${at}: a spec problem line not naming the file`);
  } else if (messages.length !== 1) {
    problems.push(`${at}: ${messages.length} "manifest: " lines`);
  }
  if (lines.some((line) => line.length > MAX_MESSAGE_LENGTH + 200)) problems.push(`${at}: a line of ${Math.max(...lines.map((l) => l.length))} characters`);
  if (c.secrets.some((secret) => r.stderr.includes(secret))) problems.push(`${at}: a secret on stderr`);
  return problems;
}

describe('hostile inputs through the CLI', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'manifest-hostile-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('a sample: the documented exit code, "manifest: " lines on stderr only, no stack trace, no secret, no hang', async (t: TestContext) => {
    const cases = await cliCases(dir);
    const runs = await mapWithLimit(cases, CLI_CONCURRENCY, async (c) => {
      const start = performance.now();
      const r = await runCli(c.args, { timeoutMs: CLI_LIMIT_MS, env: { PATH: '/nonexistent/manifest-hostile-inputs' } });
      return { c, r, ms: performance.now() - start };
    });
    const byExit = new Map<string, number>();
    for (const { r } of runs) byExit.set(String(r.code), (byExit.get(String(r.code)) ?? 0) + 1);
    const perKind = HOSTILE_KINDS.map((kind) => `${kind} ${cases.filter((c) => c.kind === kind).length}`).filter((s) => !s.endsWith(' 0'));
    const top = runs.reduce((a, b) => (b.ms > a.ms ? b : a));
    t.diagnostic(`hostile cli: ${runs.length} runs (${perKind.join(', ')}), ${[...byExit].sort().map(([code, n]) => `exit ${code}: ${n}`).join(', ')}, `
      + `stack traces ${runs.filter(({ r }) => /^\s+at /m.test(r.stderr)).length}, hangs ${runs.filter(({ r }) => r.code === null).length}, `
      + `slowest ${top.ms.toFixed(0)} ms: ${top.c.label}`);
    assert.ok(runs.length >= 60, `${runs.length} runs`);
    assert.deepEqual(runs.flatMap(({ c, r }) => cliProblems(c, r)), []);
  });
});

describe('hostile inputs: totals', () => {
  test('figures over the whole corpus', async (t) => {
    const all = (await Promise.all(HOSTILE_KINDS.map((kind) => outcomesOf(kind)))).flat();
    t.diagnostic(`hostile total: ${describeOutcomes(all)}`);
    assert.equal(all.length, corpus.length);
  });
});
