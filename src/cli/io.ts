/** What a CLI run may touch of the outside world, passed in so tests can run the CLI in-process. */

/** Streams, environment and home directory of one CLI run. */
export interface CliIo {
  /** Writes to standard output (bytes are written unchanged). */
  stdout(data: string | Uint8Array): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** Whether standard output is a terminal (colours in auto mode); when omitted, it is not. */
  stdoutIsTTY?: boolean;
  /** Whether standard error is a terminal (progress, colours); when omitted, it is not. */
  stderrIsTTY?: boolean;
  /** Reads all of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
  /** The user's home directory. */
  homeDir: string;
  /** Aborted when the user interrupts (SIGINT/SIGTERM). */
  signal: AbortSignal;
}
