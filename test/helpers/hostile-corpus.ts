// The hostile-input corpus of test/fixtures/hostile/ (see its README.md): loading it, and feeding each input to the
// parser of its kind. Shared by test/unit/hostile-inputs.test.ts (in a worker thread, so a hang can be stopped)
// and bench/hostile-inputs.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { exitCodeOf, isManifestError, type ErrorCode } from '../../src/errors.js';
import { formatPlatform, parsePlatform, platformKey } from '../../src/platform.js';
import { parseReference } from '../../src/ref.js';
import { parseChallenges } from '../../src/registry/challenge.js';
import { checkAuthFile, loadDefaultCredentials } from '../../src/registry/credentials.js';
import { parseSpecText } from '../../src/spec/load.js';
import { isSpecError } from '../../src/spec/spec-error.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The corpus directory. */
export const HOSTILE_DIR = join(root, 'test', 'fixtures', 'hostile');

/** The only registry a CLI run over the corpus may name: loopback, a port nothing listens on. */
export const OFFLINE_REGISTRY = '127.0.0.1:1';

// Credential helpers are looked up on this PATH, which does not exist: a hostile config.json never runs a program.
const NO_HELPERS_PATH = '/nonexistent/manifest-hostile-inputs';

/** Kinds of input, each with its parser. */
export const HOSTILE_KINDS = ['reference', 'platform', 'www-authenticate', 'spec', 'config.json'] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** One input of the corpus: a string (references, platforms, headers) or a file (specs, config.json). */
export interface HostileInput {
  kind: HostileKind;
  /** Where it comes from: "references.json: empty", "specs/billion-laughs.yaml". */
  name: string;
  /** The input itself, for the string kinds. */
  text?: string;
  /** Absolute path of the file, for the file kinds. */
  path?: string;
}

/** What feeding one input gave. Plain data: it crosses from a worker thread. */
export interface HostileOutcome {
  kind: HostileKind;
  name: string;
  /** The input, shortened and escaped to one printable line. */
  shown: string;
  /** Milliseconds the parser took. */
  ms: number;
  /** Whether the parser accepted the input. */
  accepted: boolean;
  /** The project's error code, when refused with a ManifestError. */
  code?: ErrorCode;
  /** The exit code that error maps to. */
  exitCode?: number;
  /** Every message line of the error (a SpecError has one per issue). */
  messages: string[];
  /** Anything else that was thrown or went wrong ("TypeError: x is not a function"): a bug. */
  escaped?: string;
  /**
   * The exit code `manifest` must give for this input in the CLI sample, or undefined when the input is not to be
   * run through the CLI (an accepted reference or spec naming a registry other than OFFLINE_REGISTRY).
   */
  cliExit?: number;
}

const JSON_FILES: Readonly<Record<string, HostileKind>> = {
  'references.json': 'reference',
  'references.generated.json': 'reference',
  'platforms.json': 'platform',
  'platforms.generated.json': 'platform',
  'www-authenticate.json': 'www-authenticate',
  'www-authenticate.generated.json': 'www-authenticate',
};

/** Reads the whole corpus, in a stable order: string kinds by file and entry, then spec and config.json files by name. */
export function loadHostileCorpus(): HostileInput[] {
  const inputs: HostileInput[] = [];
  for (const [file, kind] of Object.entries(JSON_FILES)) {
    const entries = JSON.parse(readFileSync(join(HOSTILE_DIR, file), 'utf8')) as Record<string, string>;
    for (const [label, text] of Object.entries(entries)) inputs.push({ kind, name: `${file}: ${label}`, text });
  }
  for (const [dir, kind] of [['specs', 'spec'], ['config-json', 'config.json']] as const) {
    for (const file of readdirSync(join(HOSTILE_DIR, dir)).sort()) inputs.push({ kind, name: `${dir}/${file}`, path: join(HOSTILE_DIR, dir, file) });
  }
  return inputs;
}

/** Returns an input as one short printable line: JSON-escaped, clipped, with its length when clipped. */
export function shortForm(input: HostileInput): string {
  if (input.path !== undefined) return `${input.name} (${statSync(input.path).size} bytes)`;
  const text = input.text ?? '';
  return text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}… (${text.length} characters)` : JSON.stringify(text);
}

/** What one parser run decided, before timing and error classification. */
interface Verdict {
  /** What refused the input, when something did. */
  error?: unknown;
  /** A broken invariant on an accepted input (a canonical form that does not parse back): a bug. */
  broken?: string;
  /** See HostileOutcome.cliExit; for an error, when omitted, the error's own exit code. */
  cliExit?: number | undefined;
}

const onlyOffline = (registries: readonly string[]): number | undefined => (registries.every((r) => r === OFFLINE_REGISTRY) ? 6 : undefined);

async function parse(input: HostileInput): Promise<Verdict> {
  const text = input.text ?? '';
  switch (input.kind) {
    case 'reference': {
      const ref = parseReference(text);
      // The canonical form must parse back to itself.
      if (parseReference(ref.toString()).toString() !== ref.toString()) return { broken: `canonical form ${ref.toString()} does not parse back to itself` };
      return { cliExit: onlyOffline([ref.registry]) };
    }
    case 'platform': {
      const platform = parsePlatform(text);
      if (platformKey(parsePlatform(formatPlatform(platform))) !== platformKey(platform)) return { broken: 'the formatted platform parses to another' };
      return { cliExit: 6 };
    }
    case 'www-authenticate': {
      for (const challenge of parseChallenges(text)) {
        if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(challenge.scheme)) return { broken: `scheme ${JSON.stringify(challenge.scheme)} is not a lower-case token` };
        if (Object.values(challenge.params).some((value) => typeof value !== 'string')) return { broken: 'a parameter is not a string' };
      }
      return {};
    }
    case 'spec': {
      const specs = parseSpecText(readFileSync(input.path ?? ''), { file: input.name });
      return { cliExit: onlyOffline(specs.flatMap((spec) => [spec.target.registry, ...spec.manifests.flatMap((entry) => ('registry' in entry.image ? [entry.image.registry] : []))])) };
    }
    case 'config.json': {
      const path = input.path ?? '';
      // The CLI checks a --docker-cfg file up front; the lookups below happen only when a registry asks for credentials.
      await checkAuthFile(path);
      const store = loadDefaultCredentials({ env: { PATH: NO_HELPERS_PATH }, dockerConfig: path });
      for (const [registry, repository] of [['docker.io', 'library/alpine'], [OFFLINE_REGISTRY, 'hostile/app'], ['r.example', undefined]] as const) {
        try {
          await store.get(registry, repository);
        } catch (error) {
          // Passed the check: the CLI's inspect of a refused connection never asks for credentials, so it exits 6.
          return { error, cliExit: 6 };
        }
      }
      return { cliExit: 6 };
    }
  }
}

/** Feeds one input to the parser of its kind and says what happened, how long it took, and what the CLI must exit with. */
export async function feedHostileInput(input: HostileInput): Promise<HostileOutcome> {
  const start = performance.now();
  let verdict: Verdict;
  try {
    verdict = await parse(input);
  } catch (error) {
    verdict = { error };
  }
  const outcome: HostileOutcome = { kind: input.kind, name: input.name, shown: shortForm(input), ms: performance.now() - start, accepted: true, messages: [] };
  const { error, broken, cliExit } = verdict;
  if (error === undefined) {
    if (broken !== undefined) outcome.escaped = `accepted, but ${broken}`;
    if (cliExit !== undefined) outcome.cliExit = cliExit;
    return outcome;
  }
  outcome.accepted = false;
  if (!isManifestError(error)) {
    outcome.escaped = error instanceof Error ? `${error.name}: ${error.message}` : `a non-Error ${typeof error} was thrown`;
    return outcome;
  }
  outcome.code = error.code;
  outcome.exitCode = exitCodeOf(error.code);
  outcome.messages = isSpecError(error) ? [...error.lines] : [error.message];
  outcome.cliExit = cliExit ?? outcome.exitCode;
  return outcome;
}

/**
 * Feeds every input of one kind, in corpus order, calling `report` with the input's name before each one (so a
 * caller watching from another thread knows which input is running).
 */
export async function feedHostileKind(kind: HostileKind, report?: (name: string) => void): Promise<HostileOutcome[]> {
  const outcomes: HostileOutcome[] = [];
  for (const input of loadHostileCorpus().filter((i) => i.kind === kind)) {
    report?.(input.name);
    outcomes.push(await feedHostileInput(input));
  }
  return outcomes;
}
