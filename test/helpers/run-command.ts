// Runs an external tool (openssl, htpasswd, skopeo) with a hard time limit and collects its output.
import { spawn } from 'node:child_process';
import { trackChild } from './exit-cleanup.js';

/** Output caps: enough for any manifest or log these tools print, small enough to never exhaust memory. */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

export interface RunCommandOptions {
  /** Kill the child (SIGKILL, by its PID) after this many milliseconds. Required: nothing runs unbounded. */
  timeoutMs: number;
  /** Working directory; omitted: the test process's cwd. */
  cwd?: string;
  /** Full environment of the child; omitted: process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface CommandResult {
  /** Exit code; -1 when killed by a signal (including our timeout), 127 when the tool could not be started. */
  code: number;
  stdout: string;
  stderr: string;
}

/** Collects a stream's chunks up to MAX_OUTPUT_BYTES, dropping the rest. */
export function collector(): { push(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      if (size >= MAX_OUTPUT_BYTES) return;
      chunks.push(chunk);
      size += chunk.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

/** Runs `file args`, resolving with code/stdout/stderr; never rejects, a non-zero exit is data for the caller. */
export function runCommand(file: string, args: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    const stdout = collector();
    const stderr = collector();
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    let isSettled = false;
    let hasTimedOut = false;
    const timer = setTimeout(() => {
      hasTimedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const settle = (code: number, extra = ''): void => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      resolve({ code, stdout: stdout.text(), stderr: stderr.text() + extra });
    };
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (err) => settle(127, `\n${file}: ${err.message}`));
    // 'close' (not 'exit') so that all output has been read.
    child.once('close', (code) => {
      settle(code ?? -1, hasTimedOut ? `\n${file}: killed after ${options.timeoutMs} ms` : '');
    });
  });
}
