// Runs the built CLI (bin/manifest.js) as a user would: a child process with its own environment, bounded in time.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'bin', 'manifest.js');

/** What a CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: Buffer;
  text: string;
  stderr: string;
}

/** Options of runCli. */
export interface RunCliOptions {
  /** Extra environment (HOME points at an empty directory unless given). */
  env?: Record<string, string>;
  /** Standard input. */
  stdin?: string;
  /** Milliseconds before the run is killed; default 60 000. */
  timeoutMs?: number;
  /** Working directory; default this process's. */
  cwd?: string;
  /** Called with the child once it is started (to signal it, say). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs `manifest ARGS` and collects its output. */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent-home', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      resolvePromise({ code, stdout, text: stdout.toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(options.stdin ?? '');
    options.onSpawn?.(child);
  });
}

/** Asserts the run failed with `code` and one `manifest: …` line matching `pattern`, then only hints, no stack. */
export function assertOneLineError(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^manifest: /);
  assert.match(lines[0] ?? '', pattern);
  assert.ok(lines.slice(1).every((l) => l.startsWith('  hint: ')), `only hints follow the error line:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}
