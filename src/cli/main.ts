/**
 * Entry point of the command line: runs the program, turns every failure into one `manifest: …` line plus
 * hints on stderr and the exit code of design.md §3. The only place that exits the process.
 */
import { homedir } from 'node:os';
import { CommanderError } from 'commander';
import { isManifestError } from '../errors.js';
import { ReportedFailure, renderFailure } from './failure-output.js';
import type { CliIo } from './io.js';
import { createProgram } from './program.js';
import type { GlobalOptions } from './registry-options.js';

const EXIT_INTERRUPTED = 130;

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const state: { options?: GlobalOptions; secrets: string[] } = { secrets: [] };
  const program = createProgram(io, state);
  try {
    await program.parseAsync([...argv], { from: 'user' });
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

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/** Runs the CLI on this process's arguments and exits with its code. */
export async function main(): Promise<void> {
  // The AWS SDK (loaded for s3:// stores only) warns on stderr about Node versions its future releases drop;
  // the package lock pins a release that supports this Node, so the warning only adds noise to one-line errors.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const controller = new AbortController();
  const interrupt = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  // A reader that stops early (`manifest inspect … | head -1`) closes the pipe: stop writing, quietly.
  let stdoutClosed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stdoutClosed = true;
  });
  const io: CliIo = {
    stdout: (data) => { if (!stdoutClosed) process.stdout.write(data); },
    stderr: (text) => { process.stderr.write(text); },
    readStdin,
    env: process.env,
    homeDir: process.env.HOME ?? homedir(),
    signal: controller.signal,
  };
  const code = await run(process.argv.slice(2), io);
  // Let piped output drain before exiting.
  if (!stdoutClosed) await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
