/**
 * Entry point of the command line: runs the program, turns every failure into one `manifest: …` line plus
 * hints on stderr and the exit code of design.md §3. The only place that exits the process.
 */
import { userInfo } from 'node:os';
import { isAbsolute } from 'node:path';
import { CommanderError } from 'commander';
import { enableBufferReclaim } from '../buffer-reclaim.js';
import { isManifestError, ManifestError } from '../errors.js';
import { describeWriteError } from './write-error.js';
import { ReportedFailure, renderFailure } from './failure-output.js';
import type { CliIo } from './io.js';
import { normalizeArgv } from './argv.js';
import { createProgram } from './program.js';
import type { GlobalOptions } from './registry-options.js';

const EXIT_INTERRUPTED = 130;

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const state: { options?: GlobalOptions; secrets: string[] } = { secrets: [] };
  const program = createProgram(io, state);
  try {
    // manifest-tool's spellings (-plain-http, --debug=true, push --type oci from-spec) read as ours.
    await program.parseAsync(normalizeArgv(program, argv), { from: 'user' });
    // Work the interrupt could not stop half-way (a push's tags) finished and was reported; the exit code still
    // tells the caller the command was interrupted.
    return io.signal.aborted ? EXIT_INTERRUPTED : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // commander already printed its message (or, with no command given, the help); every usage error is exit 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (io.signal.aborted) {
      // A partial push's report (tags done and not done) matters more than the interrupt that ended it.
      if (isManifestError(err) && err.code === 'PARTIAL') renderFailure(err, io, { debug: state.options?.debug === true, secrets: state.secrets });
      else io.stderr('manifest: interrupted\n');
      return EXIT_INTERRUPTED;
    }
    if (err instanceof ReportedFailure) return err.exitCode;
    return renderFailure(err, io, { debug: state.options?.debug === true, secrets: state.secrets });
  }
}

/**
 * Reads stdin to its end, or to `limit` + 1 bytes; an interrupt ends the wait at once (a terminal, or a pipe whose
 * writer never closes it, would otherwise keep the command waiting through the first SIGTERM).
 */
function readStdin(signal: AbortSignal, limit?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (): void => {
      process.stdin.off('data', onData);
      signal.removeEventListener('abort', onAbort);
      process.stdin.pause();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (limit !== undefined && size > limit) finish();
    };
    const onAbort = (): void => {
      process.stdin.pause();
      reject(new ManifestError('ABORTED', 'interrupted while reading standard input'));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    process.stdin.on('data', onData);
    process.stdin.once('end', finish);
    process.stdin.once('error', reject);
  });
}

/**
 * Returns the user's home directory: $HOME when it is an absolute path, else the account's; '' when neither is (an
 * empty or relative HOME must never make ./.docker/config.json of the current directory a credential file).
 */
function homeDirectory(): string {
  const account = (): string => {
    try {
      return userInfo().homedir;
    } catch {
      return '';
    }
  };
  return [process.env.HOME ?? '', account()].find((dir) => isAbsolute(dir)) ?? '';
}

/** Runs the CLI on this process's arguments and exits with its code. */
export async function main(): Promise<void> {
  // The AWS SDK (loaded for s3:// stores only) warns on stderr about Node versions its future releases drop;
  // the package lock pins a release that supports this Node, so the warning only adds noise to one-line errors.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Streamed blobs free their read buffers as they go (buffer-reclaim.ts): a process-wide V8 setting, so here.
  enableBufferReclaim();
  const controller = new AbortController();
  const interrupt = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  // A reader that stops early (`manifest inspect … | head -1`, `2>&1 | head -1`) closes the pipe: stop writing,
  // quietly. Any other failure of stdout (a full disk) is kept: the command, or the end of main, reports it.
  let stdoutClosed = false;
  let stdoutError: NodeJS.ErrnoException | undefined;
  const stdoutFailed = (err: NodeJS.ErrnoException | null | undefined): void => {
    if (err === null || err === undefined) return;
    stdoutClosed = true;
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') stdoutError ??= err;
  };
  process.stdout.on('error', stdoutFailed);
  let stderrClosed = false;
  process.stderr.on('error', () => { stderrClosed = true; });
  const flushStdout = (): Promise<void> => new Promise<void>((resolve, reject) => {
    const settle = (): void => { if (stdoutError === undefined) resolve(); else reject(stdoutError); };
    if (stdoutClosed) settle();
    else process.stdout.write('', (err) => { stdoutFailed(err); settle(); });
  });
  const io: CliIo = {
    stdout: (data) => { if (!stdoutClosed) process.stdout.write(data, stdoutFailed); },
    writeStdout: (data) => new Promise<void>((resolve) => {
      if (stdoutClosed || process.stdout.write(data, stdoutFailed)) {
        resolve();
        return;
      }
      // A closed pipe never drains: its error or close ends the wait as well.
      const done = (): void => {
        process.stdout.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      process.stdout.on('drain', done).on('close', done).on('error', done);
    }),
    stderr: (text) => { if (!stderrClosed) process.stderr.write(text); },
    readStdin: (limit) => readStdin(controller.signal, limit),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    homeDir: homeDirectory(),
    signal: controller.signal,
    exitsAfterRun: true,
    flushStdout,
  };
  let code = await run(process.argv.slice(2), io);
  // Let piped output drain before exiting; a command that succeeded but whose output was lost did not succeed.
  await flushStdout().catch((err: unknown) => {
    if (code !== 0) return;
    code = renderFailure(new ManifestError('OUTPUT_FAILED', `writing to standard output failed: ${describeWriteError(err)}`, { cause: err }), io);
  });
  process.exit(code);
}
