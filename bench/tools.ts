// The invocations the suite times, written once: `manifest pushml`, docker's `manifest create` + `manifest push`,
// buildah's `manifest create/add/push`, and `skopeo copy`, each as a user would run it against a plain-HTTP
// loopback registry, each in a fresh private HOME, each checked for success (a failed run throws).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareSkopeoEnvironment } from '../test/helpers/skopeo.js';
import { freshEnvironment, manifestBin, runChecked } from './process.js';
import type { Timed } from './process.js';
import type { Sample } from './stats.js';

/** Every push is killed after this long; a hang must not stall the suite. */
export const PUSH_TIMEOUT_MS = 120_000;

/** One result line of `manifest pushml`. */
export interface PushLine {
  digest: string;
  size: number;
  /** In a batch, the target the line is for. */
  reference?: string;
}

export interface ManifestRun {
  timed: Timed;
  /** The result lines, in input order. */
  lines: PushLine[];
}

export interface ManifestRunOptions {
  timeoutMs?: number;
  measureRss?: boolean;
  /** Exit code to insist on (default 0). */
  expectedCode?: number;
  /** The command to run (default the installed one, manifestBin). */
  bin?: string;
  /** Variables added to the fresh environment (the exit-RSS probe's). */
  extraEnv?: NodeJS.ProcessEnv;
}

/** Parses `Digest: sha256:… SIZE [REF]` lines. */
function parsePushLines(stdout: string): PushLine[] {
  const lines: PushLine[] = [];
  for (const match of stdout.matchAll(/^Digest: (sha256:[0-9a-f]{64}) (\d+)(?: (\S+))?$/gm)) {
    const [, digest = '', size = '0', reference] = match;
    lines.push({ digest, size: Number(size), ...(reference !== undefined && { reference }) });
  }
  return lines;
}

/** Writes `yaml` to a new spec file under a fresh directory of scratch and returns its path. */
export async function writeSpec(dir: string, name: string, yaml: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  await writeFile(file, yaml);
  return file;
}

/** Runs `manifest pushml --plain-http FILE…` (the flag names every registry of the specs). */
export async function manifestPushml(scratch: string, files: readonly string[], options: ManifestRunOptions = {}): Promise<ManifestRun> {
  const timed = await runChecked(process.execPath, [options.bin ?? manifestBin, 'pushml', '--plain-http', ...files], {
    env: { ...await freshEnvironment(scratch), ...options.extraEnv },
    timeoutMs: options.timeoutMs ?? PUSH_TIMEOUT_MS,
    scratch,
    ...(options.measureRss !== undefined && { measureRss: options.measureRss }),
  }, options.expectedCode ?? 0);
  const lines = parsePushLines(timed.stdout);
  if ((options.expectedCode ?? 0) === 0 && lines.length !== files.length) {
    throw new Error(`manifest pushml printed ${lines.length} result lines for ${files.length} specs:\n${timed.stdout}${timed.stderr}`);
  }
  return { timed, lines };
}

/**
 * Runs `manifest ARGS` with nothing to push (--help, --version, a usage error: `expectedCode` 2); `bin` is the
 * installed command unless given (unbundledBin).
 */
export async function manifestCommand(scratch: string, args: readonly string[], expectedCode = 0, bin = manifestBin): Promise<Timed> {
  return runChecked(process.execPath, [bin, ...args], { env: await freshEnvironment(scratch), timeoutMs: PUSH_TIMEOUT_MS }, expectedCode);
}

/** The sample of one of our invocations: wall time and the time from its last output to its exit. */
export function manifestSample(timed: Timed, extra: Omit<Sample, 'ms' | 'tailMs'> = {}): Sample {
  return { ms: timed.ms, ...(timed.tailMs !== undefined && { tailMs: timed.tailMs }), ...extra };
}

export interface PeerRun {
  /** Sum of the processes' wall times. */
  ms: number;
  /** Wall time of each step, by name. */
  parts: Record<string, number>;
  /** performance.now() when the first process started and the last one ended. */
  startedAt: number;
  endedAt: number;
  digest: string;
}

/**
 * `docker manifest create --insecure TARGET SOURCES…` then `docker manifest push --insecure TARGET`, as two
 * processes. No `docker manifest annotate`: docker copies os, architecture, variant and os.version from each
 * image's config, which the caller verifies.
 */
export async function dockerManifest(scratch: string, target: string, sources: readonly string[]): Promise<PeerRun> {
  const env = await freshEnvironment(scratch);
  const create = await runChecked('docker', ['manifest', 'create', '--insecure', target, ...sources], { env, timeoutMs: PUSH_TIMEOUT_MS });
  const push = await runChecked('docker', ['manifest', 'push', '--insecure', target], { env, timeoutMs: PUSH_TIMEOUT_MS });
  const digest = /^(sha256:[0-9a-f]{64})$/m.exec(push.stdout)?.[1];
  if (digest === undefined) throw new Error(`docker manifest push printed no digest:\n${push.stdout}${push.stderr}`);
  return { ms: create.ms + push.ms, parts: { create: create.ms, push: push.ms }, startedAt: create.startedAt, endedAt: push.endedAt, digest };
}

/**
 * buildah's `manifest create`, one `manifest add` per source, then `manifest push` of the list alone (--all=false:
 * the children are already in the target repository, as for the other tools), with private storage (vfs) in the
 * invocation's HOME. Checked with Debian 12's buildah 1.28; not run where buildah is not installed.
 */
export async function buildahManifest(scratch: string, target: string, sources: readonly string[]): Promise<PeerRun> {
  const env = await freshEnvironment(scratch);
  const home = env['HOME'] ?? scratch;
  // buildah 1.28 (Debian 12's) refuses `manifest add` when DOCKER_CONFIG names a directory without a config.json
  // ("checking authfile: stat …: no such file or directory"): give it an empty one.
  const dockerConfig = env['DOCKER_CONFIG'] ?? join(home, '.docker');
  await mkdir(dockerConfig, { recursive: true });
  await writeFile(join(dockerConfig, 'config.json'), '{"auths":{}}\n');
  const global = ['--root', join(home, 'storage'), '--runroot', join(home, 'run'), '--storage-driver', 'vfs'];
  const list = 'bench-list';
  const parts: Record<string, number> = {};
  const create = await runChecked('buildah', [...global, 'manifest', 'create', list], { env, timeoutMs: PUSH_TIMEOUT_MS });
  parts['create'] = create.ms;
  let addMs = 0;
  for (const source of sources) {
    addMs += (await runChecked('buildah', [...global, 'manifest', 'add', '--tls-verify=false', list, `docker://${source}`], { env, timeoutMs: PUSH_TIMEOUT_MS })).ms;
  }
  parts['add'] = addMs;
  const digestFile = join(home, 'digest');
  const push = await runChecked('buildah', [...global, 'manifest', 'push', '--all=false', '--tls-verify=false', '--digestfile', digestFile, list, `docker://${target}`], { env, timeoutMs: PUSH_TIMEOUT_MS });
  parts['push'] = push.ms;
  const digest = /sha256:[0-9a-f]{64}/.exec(await readFile(digestFile, 'utf8').catch(() => ''))?.[0];
  if (digest === undefined) throw new Error(`buildah manifest push wrote no digest:\n${push.stdout}${push.stderr}`);
  return { ms: create.ms + addMs + push.ms, parts, startedAt: create.startedAt, endedAt: push.endedAt, digest };
}

/** `skopeo copy` between two plain-HTTP registries, with a private policy and auth file. */
export async function skopeoCopy(scratch: string, source: string, destination: string, measureRss: boolean): Promise<Timed> {
  const env = await freshEnvironment(scratch);
  const skopeo = await prepareSkopeoEnvironment(env['HOME'] ?? scratch);
  return runChecked('skopeo', ['--policy', skopeo.policyFile, 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${source}`, `docker://${destination}`], {
    env: skopeo.env,
    timeoutMs: PUSH_TIMEOUT_MS * 2,
    measureRss,
    scratch,
  });
}
