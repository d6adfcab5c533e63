/**
 * Spec files to PushSpecs: read (size-capped), decode (UTF-8 only), parse (parse-yaml.ts), validate (validate.ts).
 * Several YAML documents in one file are several specs (a batch). All problems of all files are collected into one
 * SpecError, so a user fixes a batch in one round.
 */
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ManifestError } from '../errors.js';
import { parseYamlDocuments } from './parse-yaml.js';
import { SpecError, type SpecIssue } from './spec-error.js';
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
}

/**
 * Parses and validates the specs of one YAML text (one per non-empty document), or throws a SpecError
 * (INVALID_INPUT) listing every problem. Bytes must be UTF-8; either form is limited to MAX_SPEC_BYTES.
 */
export function parseSpecText(text: string | Uint8Array, options: ParseSpecTextOptions): PushSpec[] {
  const { specs, issues } = specsOf(text, options.file);
  issues.push(...tagClashes(specs));
  if (issues.length > 0) throw new SpecError(issues);
  return specs;
}

/** Options of loadSpecFiles. */
export interface LoadSpecFilesOptions {
  /** Directory relative paths are resolved against; when omitted, the process's working directory. */
  baseDir?: string;
}

/**
 * Reads, parses and validates spec files, returning their specs in file and document order. Throws INVALID_INPUT
 * naming the first file that cannot be read ("reading spec x.yaml: no such file"), else a SpecError with the
 * problems of every file.
 */
export async function loadSpecFiles(paths: readonly string[], options: LoadSpecFilesOptions = {}): Promise<PushSpec[]> {
  const contents = await Promise.allSettled(paths.map((path) => readCapped(options.baseDir === undefined ? path : resolve(options.baseDir, path))));
  const specs: PushSpec[] = [];
  const issues: SpecIssue[] = [];
  contents.forEach((content, index) => {
    const file = paths[index] ?? '';
    if (content.status === 'rejected') throw readError(file, content.reason);
    const found = specsOf(content.value, file);
    specs.push(...found.specs);
    issues.push(...found.issues);
  });
  issues.push(...tagClashes(specs));
  if (issues.length > 0) throw new SpecError(issues);
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

function specsOf(input: string | Uint8Array, file: string): { specs: PushSpec[]; issues: SpecIssue[] } {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > MAX_SPEC_BYTES) {
    return { specs: [], issues: [{ file, path: '', message: `is larger than ${MAX_SPEC_BYTES / 1024 / 1024} MiB, the limit for a spec file` }] };
  }
  let text: string;
  try {
    // fatal: a binary file or another encoding is refused, not read as replacement characters. A BOM is dropped.
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    return { specs: [], issues: [{ file, path: '', message: 'is not UTF-8 text (a spec is a YAML file)' }] };
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
  }
  // A limit hit in one document is reported before the schema problems of earlier ones: put the file in line order.
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (issues.length > MAX_ISSUES_PER_FILE) {
    issues.length = MAX_ISSUES_PER_FILE;
    issues.push({ file, path: '', message: `too many problems: stopped after ${MAX_ISSUES_PER_FILE}` });
  }
  return { specs, issues };
}

/** Reads at most `limit` + 1 bytes: enough to tell an oversized file without reading it all (or /dev/zero). */
export async function readCapped(path: string, limit: number = MAX_SPEC_BYTES): Promise<Uint8Array> {
  const handle = await open(path, 'r');
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
