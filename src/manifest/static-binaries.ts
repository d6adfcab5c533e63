/**
 * Static binaries in a static store (seed 001's `alba static push`): a directory laid out `os/arch[/variant]/FILE…`
 * is published as `PREFIX/NAME/VERSION/os/arch[/variant]/FILE`, with two JSON documents a download page or an
 * install script reads to pick the binary of its platform:
 *
 *   PREFIX/NAME/VERSION   {"flavors":[{"resources":[{"path":FILE}],"platform":{"architecture":…,"os":…}},…]}
 *   PREFIX/NAME           {"name":NAME,"tags":[VERSION,…]}
 *
 * A directory cannot hold a file and a folder of one name, so in a dir: store the documents are
 * `PREFIX/NAME/VERSION/index.json` and `PREFIX/NAME/index.json` (the nginx configuration serves them at the
 * same URLs). Files go first, then the version's document, then the name's: a reader never finds a version whose
 * files are missing.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileError } from '../archive/file-error.js';
import { clipInput, ManifestError } from '../errors.js';
import { MEDIA_TYPE_OCTET_STREAM } from '../media-types.js';
import { formatPlatform, normalizePlatform, platformKey, validatePlatform } from '../platform.js';
import type { CallOptions } from '../registry/client.js';
import type { StaticBackend } from '../store/static-backend.js';
import { compareCodePoints, JSON_MEDIA_TYPE } from '../store/static-store.js';

/** The layout prefix seed 001's download pages read ("df-dist-v1/NAME/VERSION/…"). */
export const DEFAULT_BINARY_PREFIX = 'df-dist-v1';

/** One platform's files. */
export interface BinaryFlavor {
  platform: { architecture: string; os: string; variant?: string };
  /** File names, sorted. */
  files: string[];
}

/** Options of pushStaticBinaries. */
export interface StaticBinariesOptions extends CallOptions {
  /** Name of the software ("albatros"). */
  name: string;
  /** Version ("0.9"). */
  version: string;
  /** Local directory laid out os/arch[/variant]/FILE. */
  dir: string;
  /** Key prefix under the store's root; when omitted, DEFAULT_BINARY_PREFIX. "" writes at the root. */
  prefix?: string;
  /** Whether documents go to index.json files (a dir: store); when omitted, false (object keys). */
  documentsAsIndexFiles?: boolean;
  /** Called for each object written, in order (`from` is the local file, or "tag"/"manifest" for documents). */
  onWrite?: (from: string, key: string) => void;
}

/** What pushStaticBinaries wrote. */
export interface StaticBinariesResult {
  flavors: BinaryFlavor[];
  /** Key of the version's document and of the name's. */
  versionKey: string;
  indexKey: string;
  /** Every version of the name, sorted. */
  tags: string[];
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/;
const NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

async function entries(dir: string): Promise<{ name: string; isDir: boolean }[]> {
  try {
    const out: { name: string; isDir: boolean }[] = [];
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      // Symbolic links (nix build results) count as what they point at.
      out.push({ name: e.name, isDir: e.isDirectory() || (e.isSymbolicLink() && (await stat(join(dir, e.name))).isDirectory()) });
    }
    return out.sort((a, b) => compareCodePoints(a.name, b.name));
  } catch (err) {
    // As for archives: a missing source is exit 4, one that cannot be read exit 2, each in words.
    throw fileError(err, dir);
  }
}

/** Reads a directory laid out os/arch[/variant]/FILE…; throws INVALID_INPUT on anything else. */
export async function scanBinaryDir(dir: string): Promise<BinaryFlavor[]> {
  const flavors: BinaryFlavor[] = [];
  const filesOf = async (path: string): Promise<{ files: string[]; dirs: string[] }> => {
    const found = await entries(path);
    const files: string[] = [];
    for (const e of found) {
      if (!e.isDir && (await stat(join(path, e.name))).isFile()) files.push(e.name);
    }
    return { files, dirs: found.filter((e) => e.isDir).map((e) => e.name) };
  };
  for (const os of await entries(dir)) {
    if (!os.isDir || !SEGMENT.test(os.name)) throw new ManifestError('INVALID_INPUT', `${join(dir, os.name)}: expected a directory named after an OS (linux/amd64/FILE)`);
    for (const arch of await entries(join(dir, os.name))) {
      if (!arch.isDir || !SEGMENT.test(arch.name)) throw new ManifestError('INVALID_INPUT', `${join(dir, os.name, arch.name)}: expected a directory named after an architecture`);
      const { files, dirs } = await filesOf(join(dir, os.name, arch.name));
      if (files.length > 0) flavors.push({ platform: { architecture: arch.name, os: os.name }, files });
      for (const variant of dirs) {
        if (!SEGMENT.test(variant)) throw new ManifestError('INVALID_INPUT', `${join(dir, os.name, arch.name, variant)}: not a variant name`);
        const inner = await filesOf(join(dir, os.name, arch.name, variant));
        if (inner.dirs.length > 0) throw new ManifestError('INVALID_INPUT', `${join(dir, os.name, arch.name, variant)}: expected files only (os/arch[/variant]/FILE)`);
        if (inner.files.length > 0) flavors.push({ platform: { architecture: arch.name, os: os.name, variant }, files: inner.files });
      }
    }
  }
  const seen = new Map<string, string>();
  for (const f of flavors) {
    // The folders name platforms as images do: a typo ("linuz", "amd46") would publish a platform no client asks
    // for, an alias (x86_64, aarch64) one a download page matching "amd64" misses, and two folders of one platform
    // (arm64 and aarch64, arm64 and arm64/v8) two flavors a client cannot choose between.
    // The platform's own "os/arch[/variant]" is its folder's path.
    const folder = formatPlatform(f.platform);
    const normalized = normalizePlatform(f.platform);
    try {
      validatePlatform(normalized, folder);
    } catch (err) {
      throw new ManifestError('INVALID_INPUT', `${join(dir, folder)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (normalized.architecture !== f.platform.architecture) {
      throw new ManifestError('INVALID_INPUT', `${join(dir, folder)}: name the folder ${formatPlatform(normalized)}, as images name that platform`);
    }
    const key = platformKey(normalized);
    const other = seen.get(key);
    if (other !== undefined) throw new ManifestError('INVALID_INPUT', `${join(dir, folder)}: the same platform as ${join(dir, other)}; keep one`);
    seen.set(key, folder);
    for (const file of f.files) if (!SEGMENT.test(file)) throw new ManifestError('INVALID_INPUT', `file name "${clipInput(file, 80)}" may hold only letters, digits and _.+-`);
  }
  if (flavors.length === 0) throw new ManifestError('INVALID_INPUT', `${dir} holds no os/arch[/variant]/FILE`);
  return flavors;
}

/** Returns the version's document, in seed 001's shape and key order. */
export function flavorsDocument(flavors: readonly BinaryFlavor[]): string {
  return JSON.stringify({
    flavors: flavors.map((f) => ({
      resources: f.files.map((path) => ({ path })),
      platform: { architecture: f.platform.architecture, os: f.platform.os, ...(f.platform.variant === undefined ? {} : { variant: f.platform.variant }) },
    })),
  });
}

/** Publishes the binaries of `options.dir` as `options.name` at `options.version`. */
export async function pushStaticBinaries(backend: StaticBackend, options: StaticBinariesOptions): Promise<StaticBinariesResult> {
  if (!NAME.test(options.name)) throw new ManifestError('USAGE', `name "${clipInput(options.name, 80)}" may hold only lower-case letters, digits and single ".", "_", "-"`);
  if (!SEGMENT.test(options.version)) throw new ManifestError('USAGE', `version "${clipInput(options.version, 80)}" may hold only letters, digits and _.+-`);
  const prefix = (options.prefix ?? DEFAULT_BINARY_PREFIX).replace(/^\/+|\/+$/g, '');
  if (prefix !== '' && !prefix.split('/').every((c) => SEGMENT.test(c))) throw new ManifestError('USAGE', `--prefix "${clipInput(prefix, 80)}" may hold only letters, digits and _.+- between "/"`);
  const call = options.signal === undefined ? {} : { signal: options.signal };
  const flavors = await scanBinaryDir(options.dir);
  const base = `${prefix === '' ? '' : `${prefix}/`}${options.name}`;
  const docKey = (key: string): string => (options.documentsAsIndexFiles === true ? `${key}/index.json` : key);
  for (const flavor of flavors) {
    const platformPath = [flavor.platform.os, flavor.platform.architecture, ...(flavor.platform.variant === undefined ? [] : [flavor.platform.variant])];
    for (const file of flavor.files) {
      const from = join(options.dir, ...platformPath, file);
      const key = [base, options.version, ...platformPath, file].join('/');
      const size = (await stat(from)).size;
      await backend.write(key, createReadStream(from), { contentType: MEDIA_TYPE_OCTET_STREAM, size }, call);
      options.onWrite?.(from, key);
    }
  }
  const versionKey = docKey(`${base}/${options.version}`);
  const versionDoc = new TextEncoder().encode(flavorsDocument(flavors));
  await backend.write(versionKey, versionDoc, { contentType: JSON_MEDIA_TYPE, size: versionDoc.length }, call);
  options.onWrite?.('tag', versionKey);

  const indexKey = docKey(base);
  const tags = new Set([options.version]);
  const existing = await backend.read(indexKey, 4 * 1024 * 1024, call);
  if (existing !== undefined) {
    try {
      const doc = JSON.parse(new TextDecoder().decode(existing.bytes)) as { tags?: unknown };
      if (Array.isArray(doc.tags)) for (const t of doc.tags) if (typeof t === 'string' && SEGMENT.test(t)) tags.add(t);
    } catch {
      // An unreadable index is replaced by one listing this version.
    }
  }
  const sorted = [...tags].sort(compareCodePoints);
  const indexDoc = new TextEncoder().encode(JSON.stringify({ name: options.name, tags: sorted }));
  await backend.write(indexKey, indexDoc, { contentType: JSON_MEDIA_TYPE, size: indexDoc.length }, call);
  options.onWrite?.('manifest', indexKey);
  return { flavors, versionKey, indexKey, tags: sorted };
}
