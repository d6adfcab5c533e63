/**
 * Spec files to PushSpecs: read (size-capped), decode (UTF-8 only), parse (parse-yaml.ts), validate (validate.ts).
 * Several YAML documents in one file are several specs (a batch). All problems of all files are collected into one
 * SpecError, so a user fixes a batch in one round.
 */
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ManifestError, withContext } from '../errors.js';
import { parseYamlDocuments } from './parse-yaml.js';
import type { Logger } from '../log.js';
import { formatSpecIssue, SpecError, type SpecIssue } from './spec-error.js';
import type { PushSpec } from './types.js';
import { validateSpecDocument } from './validate.js';

/** Largest spec file, in bytes (1 MiB): a list of a few dozen images is a few KiB. */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** Most problems reported for one file: past that, the file is not a spec gone slightly wrong. */
export const MAX_ISSUES_PER_FILE = 100;

/** Options of parseSpecText. */
export interface ParseSpecTextOptions {
  /** How messages name the input ("prometheus.yaml", "<stdin>"). */
  file: string;
  /** Receives a warning per key ignored (as manifest-tool ignores unknown keys); when omitted, nothing is said. */
  logger?: Logger;
}

/**
 * Parses and validates the specs of one YAML text (one per non-empty document), or throws a SpecError
 * (INVALID_INPUT) listing every problem. Bytes must be UTF-8; either form is limited to MAX_SPEC_BYTES.
 */
export function parseSpecText(text: string | Uint8Array, options: ParseSpecTextOptions): PushSpec[] {
  const { specs, issues, warnings } = specsOf(text, options.file);
  issues.push(...tagClashes(specs));
  if (issues.length > 0) throw new SpecError(issues);
  warn(warnings, options.logger);
  return specs;
}

/** Options of loadSpecFiles. */
export interface LoadSpecFilesOptions {
  /** Directory relative paths are resolved against; when omitted, the process's working directory. */
  baseDir?: string;
  /** Receives a warning per key ignored (as manifest-tool ignores unknown keys); when omitted, nothing is said. */
  logger?: Logger;
  /**
   * Ends the wait for a file that is slow to open or read (a FIFO nobody writes to) with ABORTED or TIMEOUT; when
   * omitted, the read waits as long as the file takes.
   */
  signal?: AbortSignal;
}

/** Says what was accepted but ignored: only for specs that load, so a refused spec stays one clear message. */
function warn(warnings: readonly SpecIssue[], logger: Logger | undefined): void {
  for (const warning of warnings) logger?.warn(formatSpecIssue(warning));
}

/**
 * Reads, parses and validates spec files, returning their specs in file and document order. Throws INVALID_INPUT
 * naming the first file that cannot be read ("reading spec x.yaml: no such file"), else a SpecError with the
 * problems of every file.
 */
export async function loadSpecFiles(paths: readonly string[], options: LoadSpecFilesOptions = {}): Promise<PushSpec[]> {
  const reads = Promise.allSettled(paths.map((path) => readCapped(options.baseDir === undefined ? path : resolve(options.baseDir, path), MAX_SPEC_BYTES, options.signal)));
  const contents = options.signal === undefined ? await reads : await abortable(reads, options.signal, 'reading the spec files');
  const specs: PushSpec[] = [];
  const issues: SpecIssue[] = [];
  const warnings: SpecIssue[] = [];
  contents.forEach((content, index) => {
    const file = paths[index] ?? '';
    if (content.status === 'rejected') throw readError(file, content.reason);
    const found = specsOf(content.value, file);
    specs.push(...found.specs);
    issues.push(...found.issues);
    warnings.push(...found.warnings);
  });
  issues.push(...tagClashes(specs));
  if (issues.length > 0) throw new SpecError(issues);
  warn(warnings, options.logger);
  return specs;
}

/**
 * Finds tags two specs of a batch would both write: pushed concurrently, which list the tag ends on would
 * depend on timing, so the batch is refused before anything is pushed.
 */
function tagClashes(specs: readonly PushSpec[]): SpecIssue[] {
  const writers = new Map<string, PushSpec>();
  const issues: SpecIssue[] = [];
  for (const spec of specs) {
    for (const tag of [spec.target.tag ?? 'latest', ...spec.tags]) {
      const key = `${spec.target.name}:${tag}`;
      const first = writers.get(key);
      if (first === undefined) {
        writers.set(key, spec);
        continue;
      }
      const where = (s: PushSpec): string => `${s.source?.file ?? 'a spec'}${s.source?.line === undefined ? '' : `:${s.source.line}`}`;
      issues.push({
        file: spec.source?.file ?? '',
        ...(spec.source?.line === undefined ? {} : { line: spec.source.line }),
        path: '',
        message: `tag ${key} is also written by the spec at ${where(first)}: one tag, one list per batch`,
      });
    }
  }
  return issues;
}

function specsOf(input: string | Uint8Array, file: string): { specs: PushSpec[]; issues: SpecIssue[]; warnings: SpecIssue[] } {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  const warnings: SpecIssue[] = [];
  if (size > MAX_SPEC_BYTES) {
    return { specs: [], issues: [{ file, path: '', message: `is larger than ${MAX_SPEC_BYTES / 1024 / 1024} MiB, the limit for a spec file` }], warnings };
  }
  let text: string;
  try {
    // fatal: a binary file or another encoding is refused, not read as replacement characters. A BOM is dropped.
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    return { specs: [], issues: [{ file, path: '', message: 'is not UTF-8 text (a spec is a YAML file)' }], warnings };
  }

  const parsed = parseYamlDocuments(text, file);
  const specs: PushSpec[] = [];
  const issues: SpecIssue[] = [...parsed.issues];
  // An empty document (a trailing "---", a file of comments) is nothing to push, and not a mistake by itself.
  const documents = parsed.documents.filter((document) => document.value !== null);
  if (documents.length === 0 && issues.length === 0) {
    issues.push({ file, path: '', message: 'holds no spec: the file is empty or only comments' });
  }
  for (const document of documents) {
    if (issues.length > MAX_ISSUES_PER_FILE) break;
    const result = validateSpecDocument(document, file);
    if (result.spec !== undefined) specs.push(result.spec);
    issues.push(...result.issues);
    warnings.push(...result.warnings);
  }
  // A limit hit in one document is reported before the schema problems of earlier ones: put the file in line order.
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (issues.length > MAX_ISSUES_PER_FILE) {
    issues.length = MAX_ISSUES_PER_FILE;
    issues.push({ file, path: '', message: `too many problems: stopped after ${MAX_ISSUES_PER_FILE}` });
  }
  return { specs, issues, warnings: warnings.slice(0, MAX_ISSUES_PER_FILE) };
}

/**
 * Waits for `promise` unless `signal` aborts first. An open() of a FIFO with no writer cannot be cancelled: the
 * wait for it is given up instead (the command is ending), so an interrupt or deadline is not ignored.
 */
function abortable<T>(promise: Promise<T>, signal: AbortSignal, doing: string): Promise<T> {
  if (signal.aborted) return Promise.reject(withContext(doing, signal.reason));
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = (): void => reject(withContext(doing, signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolvePromise(value); },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err instanceof Error ? err : new Error(String(err))); },
    );
  });
}

/** Reads at most `limit` + 1 bytes: enough to tell an oversized file without reading it all (or /dev/zero). */
export async function readCapped(path: string, limit: number = MAX_SPEC_BYTES, signal?: AbortSignal): Promise<Uint8Array> {
  // open() of a FIFO blocks, in one of libuv's few threads, until a writer comes; exiting the process then waits for that
  // thread too. On abort the FIFO gets a writer of our own for a moment, which ends the wait (it reads as empty).
  const isFifo = signal !== undefined && (await stat(path).catch(() => undefined))?.isFIFO() === true;
  const unblock = (): void => {
    open(path, constants.O_WRONLY | constants.O_NONBLOCK).then((writer) => writer.close(), () => undefined).catch(() => undefined);
  };
  if (isFifo) signal.addEventListener('abort', unblock, { once: true });
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } finally {
    if (isFifo) signal.removeEventListener('abort', unblock);
  }
  try {
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

const READ_FAILURES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many symbolic links',
};

/** Returns the INVALID_INPUT error for a file that cannot be read: "reading spec x.yaml: no such file". */
export function readError(file: string, err: unknown, what = 'spec'): ManifestError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code === undefined ? undefined : READ_FAILURES[code]) ?? (err instanceof Error ? err.message : String(err));
  return new ManifestError('INVALID_INPUT', `reading ${what} ${file}: ${reason}`, { cause: err });
}
