/**
 * `push archives` arguments to a PushSpec: each FILE is a docker or OCI archive, each DIR an OCI layout or, when it
 * is not one, a directory of archives (every `*.tar`, `*.tar.gz`, `*.tgz` file and layout directory in it, in name
 * order, as nix's `docker/` output). A file named `os.arch[.variant].tar[.gz]` (linux.arm64.tar.gz,
 * linux.arm.v7.tar) declares its platform: the image's config must agree, or the push stops before it starts.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileError } from '../archive/file-error.js';
import { archiveSourceOf, parseArchiveSource, type ArchiveSource } from '../archive/source.js';
import { clipInput, ManifestError, withContext } from '../errors.js';
import { KNOWN_ARCHITECTURES, KNOWN_OS, normalizePlatform, type Platform } from '../platform.js';
import { checkTag, parseTargetReference, specOfFlags } from './parse-target.js';
import type { PushSpec, PushSpecEntry } from './types.js';

/** Options of specFromArchives: the arguments and flags of `push archives`. */
export interface SpecFromArchivesOptions {
  /** FILE, DIR or scheme:PATH arguments, in order. */
  sources: readonly string[];
  /** --target: where the list is pushed, by tag. */
  target: string;
  /** --tags: further tags; when omitted, only the target's tag. */
  tags?: readonly string[] | undefined;
  /** --annotations: annotations of the list itself; when omitted, none. */
  annotations?: Readonly<Record<string, string>> | undefined;
}

/** Names an archive file holds: `*.tar`, `*.tar.gz`, `*.tgz`. */
const ARCHIVE_NAME = /\.(?:tar|tar\.gz|tgz)$/;
/** `os.arch[.variant]` before the archive suffix. */
const PLATFORM_NAME = /^([a-z0-9]+)\.([a-z0-9_]+)(?:\.(v[0-9]+(?:\.[0-9]+)?))?\.(?:tar|tar\.gz|tgz)$/;

/** Returns the platform a file name declares (`linux.arm.v7.tar.gz`), or undefined when it names none. */
export function platformOfArchiveName(name: string): Platform | undefined {
  const match = PLATFORM_NAME.exec(basename(name));
  if (match === null) return undefined;
  const [, os = '', architecture = '', variant] = match;
  if (!KNOWN_OS.has(os) || !KNOWN_ARCHITECTURES.has(architecture)) return undefined;
  return normalizePlatform({ os, architecture, ...(variant === undefined ? {} : { variant }) });
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (err) {
    throw fileError(err, path);
  }
}

async function isLayout(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, 'oci-layout'))).isFile();
  } catch {
    return false;
  }
}

/** Returns the sources an argument stands for. */
async function sourcesOf(argument: string): Promise<ArchiveSource[]> {
  const named = parseArchiveSource(argument);
  if (named !== undefined) return [named];
  if (!await isDirectory(argument)) return [archiveSourceOf(argument)];
  if (await isLayout(argument)) return [archiveSourceOf(argument, 'oci')];
  let names: string[];
  try {
    names = (await readdir(argument)).sort();
  } catch (err) {
    throw fileError(err, argument);
  }
  const out: ArchiveSource[] = [];
  for (const name of names) {
    const path = join(argument, name);
    if (await isDirectory(path)) {
      if (await isLayout(path)) out.push(archiveSourceOf(path, 'oci'));
    } else if (ARCHIVE_NAME.test(name)) {
      out.push(archiveSourceOf(path));
    }
  }
  if (out.length === 0) throw new ManifestError('USAGE', `${argument} has no archives (*.tar, *.tar.gz, *.tgz) and no OCI layouts, and is not one`);
  return out;
}

/** Builds the spec `push archives` pushes, or throws USAGE, INVALID_REFERENCE or NOT_FOUND naming the argument. */
export async function specFromArchives(options: SpecFromArchivesOptions): Promise<PushSpec> {
  if (options.sources.length === 0) throw new ManifestError('USAGE', 'name at least one archive, layout or directory of archives');
  let target;
  try {
    target = parseTargetReference(options.target);
  } catch (err) {
    throw withContext('--target', err);
  }
  const tags = options.tags ?? [];
  for (const tag of tags) {
    try {
      checkTag(tag);
    } catch (err) {
      throw withContext('--tags', err);
    }
  }
  const manifests: PushSpecEntry[] = [];
  const seen = new Set<string>();
  for (const argument of options.sources) {
    for (const source of await sourcesOf(argument)) {
      const key = `${source.location}:${source.selector ?? ''}`;
      if (seen.has(key)) throw new ManifestError('USAGE', `${clipInput(source.original, 200)} is named twice`);
      seen.add(key);
      const platform = source.kind === 'oci' ? undefined : platformOfArchiveName(source.path);
      manifests.push({ image: source, ...(platform === undefined ? {} : { platform, platformFromName: true }) });
    }
  }
  return specOfFlags(target, tags, options.annotations, manifests, '--archives');
}
