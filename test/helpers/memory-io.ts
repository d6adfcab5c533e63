// The CLI's streams kept in memory, for running the program in-process (no network, no real stdin or home).
import type { CliIo } from '../../src/cli/io.js';

/** A CliIo whose stdout and stderr are collected (read them with out() and err()) and whose stdin is `stdin`. */
export function memoryIo(stdin = ''): CliIo & { out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  return {
    stdout: (d) => { stdout += typeof d === 'string' ? d : Buffer.from(d).toString('utf8'); },
    stderr: (t) => { stderr += t; },
    readStdin: () => Promise.resolve(stdin),
    env: {},
    homeDir: '/nonexistent-home',
    signal: new AbortController().signal,
    out: () => stdout,
    err: () => stderr,
  };
}
