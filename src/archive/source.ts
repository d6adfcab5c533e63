/**
 * Local image sources named the way skopeo names them: `docker-archive:FILE[:name:tag]`, `oci:DIR[:tag]`,
 * `oci-archive:FILE[:tag]`, or a bare file or directory whose kind is read from its content. Parsing is pure: the
 * files are opened later, by an ArchiveSession.
 */
import { resolve } from 'node:path';
import { clipInput, ManifestError } from '../errors.js';

/** What a local source is: a docker save / nix tar, an OCI layout directory, an OCI layout in a tar, or "tell from the content". */
export type ArchiveKind = 'docker-archive' | 'oci' | 'oci-archive' | 'archive';

/** Schemes a spec entry or argument may start with, longest first so "oci-archive:" is not read as "oci:". */
const SCHEMES: readonly ArchiveKind[] = ['docker-archive', 'oci-archive', 'oci'];

/** Longest path or selector accepted: a path is not a place for a megabyte of text. */
const MAX_TEXT = 4096;

/** A parsed local source: its kind, path and optional selector (a tag in a layout, a RepoTag in a docker archive). */
export class ArchiveSource {
  /** The path made absolute (against the working directory), which identifies the source. */
  readonly absolutePath: string;

  constructor(
    readonly kind: ArchiveKind,
    readonly path: string,
    readonly selector: string | undefined,
    /** The text the user wrote, for messages. */
    readonly original: string,
  ) {
    this.absolutePath = resolve(path);
  }

  /** Returns the source as a spec would name it: "docker-archive:PATH[:selector]" ("PATH" when its kind is read from it). */
  toString(): string {
    const selector = this.selector === undefined ? '' : `:${this.selector}`;
    return this.kind === 'archive' ? this.path : `${this.kind}:${this.path}${selector}`;
  }

  /** Returns the reader location (ImageReader.location) of this source's file or directory. */
  get location(): string {
    return `${this.kind}:${this.absolutePath}`;
  }
}

/** Tells whether a spec entry's source is local (an ArchiveSource) rather than a registry reference. */
export function isArchiveSource(value: unknown): value is ArchiveSource {
  return value instanceof ArchiveSource;
}

/**
 * Parses `docker-archive:…`, `oci:…` or `oci-archive:…`; returns undefined for any other text (a registry
 * reference). As in skopeo, the first ":" after the scheme separates the path from the selector.
 */
export function parseArchiveSource(text: string): ArchiveSource | undefined {
  const kind = SCHEMES.find((scheme) => text.startsWith(`${scheme}:`));
  if (kind === undefined) return undefined;
  const rest = text.slice(kind.length + 1);
  if (text.length > MAX_TEXT) throw new ManifestError('INVALID_REFERENCE', `invalid source "${clipInput(text, 80)}": longer than ${MAX_TEXT} characters`);
  const colon = rest.indexOf(':');
  const path = colon < 0 ? rest : rest.slice(0, colon);
  const selector = colon < 0 ? undefined : rest.slice(colon + 1);
  if (path === '') throw new ManifestError('INVALID_REFERENCE', `invalid source "${clipInput(text, 120)}": ${kind}: needs a path, such as ${kind}:${kind === 'oci' ? 'build/layout' : 'build/linux.amd64.tar'}`);
  if (selector === '') throw new ManifestError('INVALID_REFERENCE', `invalid source "${clipInput(text, 120)}": nothing after the ":" that follows the path`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(text)) throw new ManifestError('INVALID_REFERENCE', `invalid source "${clipInput(text, 120)}": control characters in the path`);
  return new ArchiveSource(kind, path, selector, text);
}

/** Returns the source for a file or directory named without a scheme: its kind is read from its content. */
export function archiveSourceOf(path: string, kind: ArchiveKind = 'archive'): ArchiveSource {
  return new ArchiveSource(kind, path, undefined, path);
}
