// Runs the tools under measurement as users run them: fresh processes with a private HOME, timed from spawn to
// exit. Each runs in its own process group, killed as a whole (by the group leader's PID) after a generous bound
// or when the benchmark exits, so a hung tool or a wrapper's grandchild never outlives the run. Peak RSS comes
// from GNU time (`/usr/bin/time -f %M`), which reads the child's rusage on exit.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isOnPath } from '../test/helpers/registry.js';
import { collector } from '../test/helpers/run-command.js';

const GNU_TIME = '/usr/bin/time';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The installed command, run with this node: `node bin/manifest.js …`. */
export const manifestBin = join(root, 'bin', 'manifest.js');
/** The bench's compiled modules: dist/bench/. */
export const benchDir = join(root, 'dist', 'bench');
/** The CLI from tsc's output alone, without the bundle: `node dist/bench/unbundled-cli.js …`. */
export const unbundledBin = join(benchDir, 'unbundled-cli.js');

/** Process groups still running; killed by the 'exit' hook if the benchmark stops first. */
const liveGroups = new Set<number>();
let isHookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function installHook(): void {
  if (isHookInstalled) return;
  process.once('exit', () => {
    for (const pid of liveGroups) killGroup(pid);
    liveGroups.clear();
  });
  isHookInstalled = true;
}

export interface RunOptions {
  /** Full environment of the child. */
  env: NodeJS.ProcessEnv;
  /** Kill the process group (SIGKILL) after this many milliseconds. */
  timeoutMs: number;
  /** Run under /usr/bin/time and report the peak RSS; needs hasGnuTime(). */
  measureRss?: boolean;
  /** Directory for the RSS report file; required with measureRss. */
  scratch?: string;
}

export interface Timed {
  /** Wall time from spawn to exit, in ms. */
  ms: number;
  /** performance.now() at spawn and at exit: the clock the delay proxy's events use. */
  startedAt: number;
  endedAt: number;
  /** From the last byte read of stdout or stderr to the exit, in ms; undefined when the tool printed nothing. */
  tailMs?: number;
  /** Exit code; -1 when killed by a signal, 127 when the tool could not be started. */
  code: number;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Peak RSS in KiB, with measureRss. */
  maxRssKiB?: number;
}

/** Reads the last line GNU time wrote with `-f %M -o FILE` (it writes "Command exited with …" first on failure). */
async function readRss(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const last = text.trim().split('\n').pop() ?? '';
  return /^\d+$/.test(last) ? Number(last) : undefined;
}

/** Runs `file args`, timed; never rejects on a non-zero exit (see runChecked). */
export async function runTimed(file: string, args: readonly string[], options: RunOptions): Promise<Timed> {
  installHook();
  let rssDir: string | undefined;
  let argv = [...args];
  let command = file;
  if (options.measureRss === true) {
    if (options.scratch === undefined) throw new Error('runTimed: measureRss needs scratch');
    rssDir = await mkdtemp(join(options.scratch, 'rss-'));
    argv = ['-f', '%M', '-o', join(rssDir, 'rss'), file, ...args];
    command = GNU_TIME;
  }
  const stdout = collector();
  const stderr = collector();
  const result = await new Promise<Omit<Timed, 'maxRssKiB'>>((resolve) => {
    const startedAt = performance.now();
    const child = spawn(command, argv, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    if (pid !== undefined) liveGroups.add(pid);
    let timedOut = false;
    let settled = false;
    let lastOutputAt: number | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, options.timeoutMs);
    const settle = (code: number, extra = ''): void => {
      if (settled) return;
      settled = true;
      const endedAt = performance.now();
      clearTimeout(timer);
      // The leader has been reaped: its PID may be reused, so the group is no longer ours to kill. (GNU time waits
      // for the tool it runs, and none of the tools measured leaves children behind.)
      if (pid !== undefined) liveGroups.delete(pid);
      const tail = lastOutputAt === undefined ? {} : { tailMs: endedAt - lastOutputAt };
      resolve({ ms: endedAt - startedAt, startedAt, endedAt, ...tail, code, timedOut, stdout: stdout.text(), stderr: stderr.text() + extra });
    };
    child.stdout.on('data', (chunk: Buffer) => {
      lastOutputAt = performance.now();
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      lastOutputAt = performance.now();
      stderr.push(chunk);
    });
    child.once('error', (err) => settle(127, `\n${command}: ${err.message}`));
    // 'close' (not 'exit') so that all output has been read.
    child.once('close', (code) => settle(code ?? -1, timedOut ? `\n${file}: killed after ${options.timeoutMs} ms` : ''));
  });
  if (rssDir === undefined) return result;
  const maxRssKiB = await readRss(join(rssDir, 'rss'));
  await rm(rssDir, { recursive: true, force: true });
  return { ...result, ...(maxRssKiB !== undefined && { maxRssKiB }) };
}

/** Runs like runTimed, throwing with the tool's stderr unless it exits with `expectedCode` (default 0). */
export async function runChecked(file: string, args: readonly string[], options: RunOptions, expectedCode = 0): Promise<Timed> {
  const result = await runTimed(file, args, options);
  if (result.code !== expectedCode) {
    const shown = [file, ...args].join(' ');
    throw new Error(`${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown} exited ${result.code} (expected ${expectedCode}):\n${result.stderr.trim().slice(-4000)}`);
  }
  return result;
}

/** Tells whether GNU time is there to report peak RSS. */
export function hasGnuTime(): boolean {
  try {
    accessSync(GNU_TIME, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A private HOME and DOCKER_CONFIG for one invocation: the user's config (credential helpers, proxies) stays out,
 * and docker and buildah start with no local manifest-list state.
 */
export async function freshEnvironment(scratch: string): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(scratch, 'home-'));
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, DOCKER_CONFIG: join(home, '.docker') };
}

/** Versions of the peers, or undefined when one is missing. */
export interface Tools {
  docker?: string;
  buildah?: string;
  skopeo?: string;
  /** Whether peak RSS can be measured. */
  gnuTime: boolean;
}

async function versionOf(file: string, args: string[], pattern: RegExp, scratch: string): Promise<string | undefined> {
  if (!isOnPath(file)) return undefined;
  const result = await runTimed(file, args, { env: await freshEnvironment(scratch), timeoutMs: 30_000 });
  return pattern.exec(`${result.stdout}\n${result.stderr}`)?.[1];
}

/** Finds the peers: docker's CLI with `docker manifest` (no daemon needed), buildah, skopeo, GNU time. */
export async function detectTools(scratch: string): Promise<Tools> {
  // Without a daemon `docker version` still prints the client version, and exits 1.
  let docker = await versionOf('docker', ['version', '--format', '{{.Client.Version}}'], /^(\d+\.\d+\S*)/m, scratch);
  if (docker !== undefined) {
    const help = await runTimed('docker', ['manifest', '--help'], { env: await freshEnvironment(scratch), timeoutMs: 30_000 });
    if (help.code !== 0) docker = undefined;
  }
  const buildah = await versionOf('buildah', ['--version'], /version (\S+)/, scratch);
  const skopeo = await versionOf('skopeo', ['--version'], /version (\S+)/, scratch);
  return { ...(docker !== undefined && { docker }), ...(buildah !== undefined && { buildah }), ...(skopeo !== undefined && { skopeo }), gnuTime: hasGnuTime() };
}
