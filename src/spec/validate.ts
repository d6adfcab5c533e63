/**
 * One YAML document to a PushSpec: first the JSON Schema (schemas/spec.schema.json, the file editors use too, run by
 * ajv), then what a schema cannot say (references, tags, platforms, duplicates). Every problem becomes an issue with
 * its line; the checks after the schema run on whatever parts are well-formed, so one run reports them all.
 */
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { parseArchiveSource, type ArchiveSource } from '../archive/source.js';
import { clipInput, ManifestError } from '../errors.js';
import { formatPlatform, KNOWN_OS, normalizePlatform, platformKey, validatePlatform, type Platform } from '../platform.js';
import { parseReference, type Reference } from '../ref.js';
import { checkTag, furtherTags, parseTargetReference } from './parse-target.js';
import { escapePointerSegment, type YamlDocument } from './parse-yaml.js';
import type { SpecIssue } from './spec-error.js';
import { validate as generatedValidator } from './spec-schema.validator.js';
import type { PushSpec, PushSpecEntry } from './types.js';

/**
 * The schema's validator, compiled ahead of time by scripts/generate-validator.mjs (a unit test checks it matches
 * the schema): compiling it at run time cost about a tenth of a push's start-up.
 */
const specValidator = generatedValidator as unknown as ValidateFunction;

/** What validateSpecDocument found in one document. */
export interface SpecDocumentResult {
  /** The spec, when the document has no problem; else undefined. */
  spec: PushSpec | undefined;
  /** Every problem, by line. */
  issues: SpecIssue[];
  /** What is accepted but worth saying: keys ignored, as manifest-tool ignores them. */
  warnings: SpecIssue[];
}

/** The keys each mapping of a spec knows; others are ignored with a warning, or refused when a near miss. */
const KNOWN_KEYS = {
  spec: ['image', 'tags', 'annotations', 'manifests'],
  entry: ['image', 'platform', 'annotations'],
  platform: ['architecture', 'os', 'variant', 'osversion', 'osfeatures', 'os.version', 'os.features', 'features'],
} as const;

/** Validates one YAML document of `file` against the schema and the rules after it, returning the spec or every issue. */
export function validateSpecDocument(document: YamlDocument, file: string): SpecDocumentResult {
  const validate = specValidator;
  const schemaIssues: SpecIssue[] = [];
  if (!validate(document.value)) {
    for (const error of validate.errors ?? []) {
      const { path, message } = describeSchemaError(error);
      schemaIssues.push({ file, line: document.lineOf(path), path, message });
    }
  }
  const checker = new SpecChecker(document, file, schemaIssues);
  const spec = checker.check();
  const issues = dedupe([...schemaIssues, ...checker.issues]).sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { spec: issues.length === 0 ? spec : undefined, issues, warnings: checker.warnings };
}

function dedupe(issues: SpecIssue[]): SpecIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\0${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const KIND_NAMES: Readonly<Record<string, string>> = { object: 'a mapping', array: 'a list', string: 'a string' };

function kindOf(data: unknown): string {
  if (Array.isArray(data)) return 'a list';
  if (typeof data === 'object' && data !== null) return 'a mapping';
  return 'a string';
}

function describeSchemaError(error: ErrorObject): { path: string; message: string } {
  const params = error.params as Record<string, unknown>;
  const path = error.instancePath;
  switch (error.keyword) {
    case 'type': {
      const wanted = KIND_NAMES[String(params['type'])] ?? String(params['type']);
      const subject = path === '' ? 'the document ' : '';
      const found = error.data === null ? 'but is empty' : `not ${kindOf(error.data)}`;
      return { path, message: `${subject}must be ${wanted}${path === '' ? ' (with image and manifests keys)' : ''}, ${found}` };
    }
    case 'minItems':
      return { path, message: path === '/manifests' ? 'must list at least one image' : error.message ?? 'has too few items' };
    case 'minLength':
      return { path, message: 'must not be empty' };
    default:
      return { path, message: error.message ?? `fails the schema's "${error.keyword}" rule` };
  }
}


function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = lower.length <= 4 ? 1 : 2;
  for (const candidate of known) {
    if (candidate === lower) return candidate;
    const distance = editDistance(lower, candidate);
    if (distance <= bestDistance) {
      best = candidate;
      bestDistance = distance - 1;
    }
  }
  // "arch" for architecture: a prefix of at least four characters is a clear intent.
  return best ?? (lower.length >= 4 ? known.find((candidate) => candidate.startsWith(lower)) : undefined);
}

/** Levenshtein distance, capped in cost by the short keys it is used on (a key is at most a few dozen characters). */
function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The checks after the schema, run on the parts of the document that have the right shape. */
class SpecChecker {
  readonly issues: SpecIssue[] = [];
  readonly warnings: SpecIssue[] = [];
  private readonly platforms = new Map<string, { pointer: string; platform: Platform }>();

  constructor(
    private readonly document: YamlDocument,
    private readonly file: string,
    private readonly schemaIssues: readonly SpecIssue[],
  ) {}

  /** Returns the spec built from the well-formed parts (meaningful only when no issue was found). */
  check(): PushSpec | undefined {
    const value = this.document.value;
    if (!isMapping(value)) return undefined;
    this.unknownKeys(value, '', KNOWN_KEYS.spec);
    const target = typeof value['image'] === 'string' && !this.hasSchemaIssue('/image')
      ? this.attempt('/image', () => parseTargetReference(value['image'] as string))
      : undefined;
    const tags: string[] = [];
    if (Array.isArray(value['tags'])) {
      value['tags'].forEach((tag: unknown, index) => {
        const pointer = `/tags/${index}`;
        if (typeof tag !== 'string' || this.hasSchemaIssue(pointer)) return;
        if (this.passes(pointer, () => checkTag(tag))) tags.push(tag);
      });
    }
    const annotations = this.annotations(value['annotations'], '/annotations');
    const entries: PushSpecEntry[] = [];
    if (Array.isArray(value['manifests'])) {
      value['manifests'].forEach((item: unknown, index) => {
        const entry = this.entry(item, `/manifests/${index}`);
        if (entry !== undefined) entries.push(entry);
      });
    }
    if (target === undefined) return undefined;
    return {
      target,
      tags: furtherTags(target, tags),
      ...(annotations === undefined ? {} : { annotations }),
      manifests: entries,
      source: { file: this.file, document: this.document.index, line: this.document.lineOf('/image') },
    };
  }

  private entry(item: unknown, pointer: string): PushSpecEntry | undefined {
    if (!isMapping(item)) return undefined;
    this.unknownKeys(item, pointer, KNOWN_KEYS.entry);
    const imagePointer = `${pointer}/image`;
    const image: Reference | ArchiveSource | undefined = typeof item['image'] === 'string' && !this.hasSchemaIssue(imagePointer)
      ? this.attempt(imagePointer, () => parseArchiveSource(item['image'] as string) ?? parseReference(item['image'] as string))
      : undefined;
    const platform = this.platform(item['platform'], `${pointer}/platform`);
    const annotations = this.annotations(item['annotations'], `${pointer}/annotations`);
    if (image === undefined) return undefined;
    return {
      image,
      ...(platform === undefined ? {} : 'os' in platform && 'architecture' in platform ? { platform: platform as Platform } : { platformFields: platform }),
      ...(annotations === undefined ? {} : { annotations }),
      line: this.document.lineOf(pointer),
    };
  }

  /**
   * Returns the declared platform: complete (os and architecture given), or the fields given of a partial one
   * (`{}`, `{variant: v7}`), which resolution completes from the image config; undefined when it has a problem.
   */
  private platform(raw: unknown, pointer: string): Platform | Partial<Platform> | undefined {
    if (!isMapping(raw)) return undefined;
    this.unknownKeys(raw, pointer, KNOWN_KEYS.platform);
    if (this.schemaIssues.some((issue) => issue.path === pointer || issue.path.startsWith(`${pointer}/`))) return undefined;
    // manifest-tool's keys, mapped once to the OCI fields (design.md §7.5), or the OCI spellings themselves; empty
    // strings mean "none", as Go's omitempty did.
    const fields: Partial<Platform> = {};
    if (typeof raw['os'] === 'string') fields.os = raw['os'];
    if (typeof raw['architecture'] === 'string') fields.architecture = raw['architecture'];
    if (typeof raw['variant'] === 'string' && raw['variant'] !== '') fields.variant = raw['variant'];
    const osVersion = this.spelledTwice(raw, pointer, 'osversion', 'os.version', (v) => (typeof v === 'string' && v !== '' ? v : undefined));
    if (osVersion !== undefined) fields['os.version'] = osVersion;
    const osFeatures = this.spelledTwice(raw, pointer, 'osfeatures', 'os.features', (v) => {
      const list = strings(v);
      return list.length === 0 ? undefined : list;
    });
    if (osFeatures !== undefined) fields['os.features'] = osFeatures;
    const features = strings(raw['features']);
    if (features.length > 0) fields.features = features;
    if (fields.os === undefined || fields.architecture === undefined) return this.partialPlatform(fields, pointer);
    const declared: Platform = { ...fields, os: fields.os, architecture: fields.architecture };
    const platform = normalizePlatform(declared);
    if (!this.passes(pointer, () => validatePlatform(platform, formatPlatform(declared)))) return undefined;
    if (platform.os !== 'windows' && platform['os.version'] !== undefined) {
      // Kept (as manifest-tool keeps it), but no client matches an os.version other than Windows': likely a slip.
      this.warnings.push({ file: this.file, line: this.document.lineOf(pointer), path: pointer, message: `osversion "${clipInput(platform['os.version'], 40)}" on ${platform.os}: only Windows images are matched by it` });
    }

    // A platform the image config may still complete (a Windows os.version, an arm variant) is checked for
    // duplicates after resolution, once completed: two windows/amd64 entries for ltsc2019 and ltsc2022 are fine.
    // arm64 is not: whatever its config adds, arm64 compares as arm64/v8 (design.md §4), so "arm64" next to
    // "arm64/v8" is refused here, before any request.
    const completable = (platform.os === 'windows' && platform['os.version'] === undefined)
      || (platform.architecture === 'arm' && platform.variant === undefined);
    if (completable) return platform;
    const key = platformKey(platform);
    const first = this.platforms.get(key);
    if (first !== undefined) {
      const shownFirst = clipInput(formatPlatform(first.platform), 80);
      const shown = clipInput(formatPlatform(declared), 80);
      const alias = shownFirst === shown ? '' : ` as ${shownFirst}`;
      this.add(pointer, `platform ${shown} is declared twice: here and at ${first.pointer} (line ${this.document.lineOf(first.pointer)})${alias}`);
      return undefined;
    }
    this.platforms.set(key, { pointer: pointer.slice(0, pointer.lastIndexOf('/')), platform });
    return platform;
  }

  /** Checks what a partial platform gives (the rest comes from the config) and returns it. */
  private partialPlatform(fields: Partial<Platform>, pointer: string): Partial<Platform> | undefined {
    const shown = `${fields.os ?? '?'}/${fields.architecture ?? '?'}${fields.variant === undefined ? '' : `/${fields.variant}`}`;
    const fail = (message: string): undefined => {
      this.add(pointer, `invalid platform "${clipInput(shown, 120)}": ${message}`);
      return undefined;
    };
    if (fields.os !== undefined && !KNOWN_OS.has(fields.os)) return fail(`unknown os "${clipInput(fields.os, 40)}" (such as linux or windows)`);
    if (fields.architecture !== undefined) {
      const normalized = normalizePlatform({ os: 'linux', architecture: fields.architecture, ...(fields.variant === undefined ? {} : { variant: fields.variant }) });
      if (!this.passes(pointer, () => validatePlatform(normalized, shown))) return undefined;
      return { ...fields, architecture: normalized.architecture, ...(normalized.variant === undefined ? {} : { variant: normalized.variant }) };
    }
    return fields;
  }

  /** Reads a field manifest-tool and the OCI spec spell differently; giving both with different values is a problem. */
  private spelledTwice<T>(raw: Mapping, pointer: string, ours: string, oci: string, read: (value: unknown) => T | undefined): T | undefined {
    const a = read(raw[ours]);
    const b = read(raw[oci]);
    if (a !== undefined && b !== undefined && JSON.stringify(a) !== JSON.stringify(b)) {
      this.add(`${pointer}/${escapePointerSegment(oci)}`, `${oci} and ${ours} are two spellings of one field, but give different values: keep one`);
    }
    return a ?? b;
  }

  /**
   * Reports keys a mapping does not know: a likely misspelling of a known key (platfrom, tag, manifest) is a
   * problem with a suggestion; any other key is ignored with a warning, as manifest-tool ignores it.
   */
  private unknownKeys(mapping: Mapping, pointer: string, known: readonly string[]): void {
    for (const key of Object.keys(mapping)) {
      if (known.includes(key)) continue;
      const path = `${pointer}/${escapePointerSegment(key)}`;
      const suggestion = closestKey(key, known);
      if (suggestion !== undefined) this.add(path, `unknown key '${clipInput(key, 40)}' (did you mean '${suggestion}'?)`);
      else this.warnings.push({ file: this.file, line: this.document.lineOf(path), path, message: `unknown key '${clipInput(key, 40)}' ignored (known keys: ${known.join(', ')})` });
    }
  }

  private annotations(raw: unknown, pointer: string): Record<string, string> | undefined {
    if (!isMapping(raw)) return undefined;
    const entries: [string, string][] = [];
    for (const [key, value] of Object.entries(raw)) {
      if (key === '') this.add(`${pointer}/`, 'an annotation key must not be empty');
      else if (typeof value === 'string') entries.push([key, value]);
    }
    // fromEntries defines properties: a "__proto__" key stays a key.
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }

  private hasSchemaIssue(pointer: string): boolean {
    return this.schemaIssues.some((issue) => issue.path === pointer || issue.path.startsWith(`${pointer}/`));
  }

  /** Returns what `parse` returns; a ManifestError it throws becomes an issue at `pointer`, and the result undefined. */
  private attempt<T>(pointer: string, parse: () => T): T | undefined {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      this.add(pointer, err.message);
      return undefined;
    }
  }

  /** Tells whether `check` passes; a ManifestError it throws becomes an issue at `pointer`. */
  private passes(pointer: string, check: () => void): boolean {
    return this.attempt(pointer, () => {
      check();
      return true;
    }) === true;
  }

  private add(path: string, message: string): void {
    this.issues.push({ file: this.file, line: this.document.lineOf(path), path, message });
  }
}
