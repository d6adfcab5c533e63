/** What a CLI run may touch of the outside world, passed in so tests can run the CLI in-process. */

/** Streams, environment and home directory of one CLI run. */
export interface CliIo {
  /** Writes to standard output (bytes are written unchanged). */
  stdout(data: string | Uint8Array): void;
  /**
   * Writes to standard output and resolves once the stream can take more (for output too large to buffer, such
   * as a blob); when omitted, `stdout` is used.
   */
  writeStdout?(data: Uint8Array): Promise<void>;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** Whether standard output is a terminal (colours in auto mode); when omitted, it is not. */
  stdoutIsTTY?: boolean;
  /** Whether standard error is a terminal (progress, colours); when omitted, it is not. */
  stderrIsTTY?: boolean;
  /**
   * Reads standard input to its end (for --password-stdin, `pushml -`), or its first `limit` + 1 bytes when a
   * limit is given, enough to tell that it is too long without reading it all (`</dev/zero`). When omitted, no limit.
   */
  readStdin(limit?: number): Promise<string>;
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
  /** The user's home directory, an absolute path; '' when there is none (no home credential files are read). */
  homeDir: string;
  /** Aborted when the user interrupts (SIGINT/SIGTERM). */
  signal: AbortSignal;
  /**
   * The process exits as soon as the run returns (bin, through main): pooled connections are left for the exit to
   * close. When omitted, every connection is closed before the run returns (an in-process caller lives on).
   */
  exitsAfterRun?: boolean;
  /**
   * Resolves once everything written to stdout has been handed to the system; rejects with the error of a write
   * that failed (a full disk, an I/O error; a reader that closed the pipe is not one). When omitted, writes are
   * taken as done.
   */
  flushStdout?(): Promise<void>;
}
