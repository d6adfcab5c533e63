/**
 * Where a static registry lives, as the user names it: a directory tree (`dir:ROOT//NAME:TAG`) or an S3 bucket
 * (`s3://BUCKET[/PREFIX]//NAME:TAG?endpoint=…&region=…&forcePathStyle=true`). `//` separates the store's root
 * from the repository name. Parsing is pure: nothing is touched until a store is opened.
 */
import { clipInput, ManifestError } from '../errors.js';
import { isStaticTargetText, MAX_TAG_LENGTH, parseReference, Reference } from '../ref.js';

/** A directory tree on this machine that a web server serves. */
export interface DirLocation {
  kind: 'dir';
  /** The root directory as given (relative paths are taken from the working directory when the store opens). */
  root: string;
}

/** An S3 or S3-compatible bucket (Garage, MinIO, Ceph, R2, AWS), with an optional key prefix. */
export interface S3Location {
  kind: 's3';
  bucket: string;
  /** Key prefix without leading or trailing "/" ("" for the bucket's root). */
  prefix: string;
  /** Endpoint URL of an S3-compatible service; when omitted, AWS's own for the region. */
  endpoint?: string;
  /** Region; when omitted, the AWS SDK's default (AWS_REGION, the profile's), else us-east-1. */
  region?: string;
  /** Address the bucket in the path (http://endpoint/bucket/key) rather than as a host name. */
  forcePathStyle: boolean;
}

/** A static registry's root. */
export type StaticLocation = DirLocation | S3Location;

/** Host name standing in for the registry of a static target's Reference; it is never contacted. */
const STATIC_REGISTRY = 'static.invalid';

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_COMPONENT = /^[A-Za-z0-9!_.*'()-]+$/;
const S3_PARAMETERS = new Set(['endpoint', 'region', 'forcePathStyle', 's3ForcePathStyle']);

// Whether a target names a static store: decided in ref.ts, whose parser refuses such text as a reference.
export { isStaticTargetText };

/** Returns the store's root as a user would type it, without query ("dir:/srv/www", "s3://bucket/prefix"). */
export function formatStaticLocation(location: StaticLocation): string {
  return location.kind === 'dir' ? `dir:${location.root}` : `s3://${location.bucket}${location.prefix === '' ? '' : `/${location.prefix}`}`;
}

/** A push target in a static store: the store's root, a repository name and a tag. */
export class StaticReference extends Reference {
  /** `original` is the target as the user typed it, for messages. */
  constructor(readonly store: StaticLocation, repository: string, tag: string | undefined, original: string) {
    super({ registry: STATIC_REGISTRY, repository, tag, original });
  }

  /** Returns "ROOT//repository", the store's root and the repository name. */
  override get name(): string {
    return `${formatStaticLocation(this.store)}//${this.repository}`;
  }

  override withTag(tag: string): Reference {
    const checked = super.withTag(tag);
    return new StaticReference(this.store, this.repository, checked.tag, `${this.name}:${tag}`);
  }

  override withDigest(): Reference {
    throw new ManifestError('UNSUPPORTED', `${this.name}: a static store is addressed by tag`);
  }
}

/** Tells whether a reference names a static store. */
export function isStaticReference(ref: Reference): ref is StaticReference {
  return ref instanceof StaticReference;
}

function invalid(text: string, reason: string): never {
  throw new ManifestError('INVALID_REFERENCE', `invalid static target "${clipInput(text, 160)}": ${reason}`);
}

function isTrue(text: string, value: string, key: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  invalid(text, `${key} must be true or false, not "${clipInput(value, 20)}"`);
}

/** Parses the root part of an s3:// target (after "s3://", before "//NAME"). */
function parseS3Root(text: string, path: string, query: string): S3Location {
  const slash = path.indexOf('/');
  const bucket = slash < 0 ? path : path.slice(0, slash);
  if (!BUCKET.test(bucket)) invalid(text, `bucket "${clipInput(bucket, 70)}" is not a valid bucket name (3 to 63 lower-case letters, digits, "." and "-")`);
  const prefix = slash < 0 ? '' : path.slice(slash + 1).replace(/\/+$/, '');
  if (prefix !== '' && !prefix.split('/').every((c) => PREFIX_COMPONENT.test(c))) {
    invalid(text, `prefix "${clipInput(prefix, 70)}" may hold only letters, digits and !_.*'()- between single "/"`);
  }
  const location: S3Location = { kind: 's3', bucket, prefix, forcePathStyle: false };
  for (const [key, value] of new URLSearchParams(query)) {
    if (!S3_PARAMETERS.has(key)) invalid(text, `unknown parameter "${clipInput(key, 30)}" (expected endpoint, region, forcePathStyle)`);
    if (key === 'endpoint') {
      // Go CDK's form (seed 001) gives a host without scheme: https then, as S3 clients assume.
      const url = /^[a-z]+:\/\//i.test(value) ? value : `https://${value}`;
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        invalid(text, `endpoint "${clipInput(value, 70)}" is not a URL`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') invalid(text, 'endpoint must be an http or https URL');
      if (parsed.username !== '' || parsed.password !== '') invalid(text, 'endpoint must not carry credentials: use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
      location.endpoint = url.replace(/\/+$/, '');
    } else if (key === 'region') {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(value)) invalid(text, `region "${clipInput(value, 70)}" is not a region name`);
      location.region = value;
    } else {
      location.forcePathStyle = isTrue(text, value, key);
    }
  }
  return location;
}

/** What a static target text names: the store's root, and the repository and tag when given after "//". */
export interface ParsedStaticTarget {
  location: StaticLocation;
  /** "team/app"; undefined when the text names only the store's root. */
  repository?: string;
  /** The tag after the name; undefined when none was given. */
  tag?: string;
}

/**
 * Parses `dir:ROOT[//NAME[:TAG]]` or `s3://BUCKET[/PREFIX][//NAME[:TAG]][?…]`, or throws INVALID_REFERENCE.
 * The repository name follows the registry rules (lower case, single separators); a digest is refused.
 */
export function parseStaticTarget(text: string): ParsedStaticTarget {
  if (text.length > 2048) invalid(text, 'it is longer than 2048 characters');
  if (/[\s\p{Cc}]/u.test(text)) invalid(text, 'it contains white space or control characters');
  let rest: string;
  let query = '';
  if (text.startsWith('dir:')) {
    rest = text.slice('dir:'.length);
  } else if (text.startsWith('s3://')) {
    const q = text.indexOf('?');
    rest = text.slice('s3://'.length, q < 0 ? undefined : q);
    query = q < 0 ? '' : text.slice(q + 1);
  } else {
    return invalid(text, 'expected dir:ROOT//NAME:TAG or s3://BUCKET[/PREFIX]//NAME:TAG');
  }
  // The name never holds "//" (its components are not empty), so the last "//" separates it from the root,
  // which keeps "dir:///team/app" meaning the root directory "/".
  const sep = rest.lastIndexOf('//');
  const root = sep < 0 ? rest : rest.slice(0, sep);
  const nameTag = sep < 0 ? undefined : rest.slice(sep + 2);
  if (root === '') invalid(text, text.startsWith('dir:') ? 'the root directory is missing (dir:ROOT//NAME:TAG)' : 'the bucket is missing');
  const location: StaticLocation = text.startsWith('dir:') ? { kind: 'dir', root } : parseS3Root(text, root, query);
  if (nameTag === undefined) return { location };
  if (nameTag.includes('@')) invalid(text, 'a static target is pushed to a tag, not to a digest');
  const colon = nameTag.lastIndexOf(':');
  const repository = colon > nameTag.lastIndexOf('/') ? nameTag.slice(0, colon) : nameTag;
  const tag = colon > nameTag.lastIndexOf('/') ? nameTag.slice(colon + 1) : undefined;
  if (repository === '') invalid(text, 'the repository name after "//" is missing');
  if (tag !== undefined && tag.length > MAX_TAG_LENGTH) invalid(text, `the tag is longer than ${MAX_TAG_LENGTH} characters`);
  return { location, repository, ...(tag === undefined ? {} : { tag }) };
}

/**
 * Parses a static push target: `ROOT//NAME[:TAG]` (tag "latest" when omitted), or, in seed 001's form, the
 * store's root alone with `nameTag` ("albatros:0.9") given apart. Throws INVALID_REFERENCE.
 */
export function parseStaticReference(text: string, nameTag?: string): StaticReference {
  const parsed = parseStaticTarget(text);
  let repository = parsed.repository;
  let tag = parsed.tag;
  if (repository === undefined) {
    if (nameTag === undefined) invalid(text, 'name the repository after "//" (dir:ROOT//NAME:TAG, s3://BUCKET//NAME:TAG)');
    const colon = nameTag.lastIndexOf(':');
    repository = colon > nameTag.lastIndexOf('/') ? nameTag.slice(0, colon) : nameTag;
    tag = colon > nameTag.lastIndexOf('/') ? nameTag.slice(colon + 1) : undefined;
  } else if (nameTag !== undefined) {
    invalid(text, 'the repository is named twice: after "//" and apart');
  }
  return new StaticReference(parsed.location, repository, tag ?? 'latest', text);
}

/** Parses a reference that may name a static store's tag (dir:ROOT//NAME:TAG, s3://…) or, else, a registry's. */
export function parseStoreOrRegistryReference(text: string): Reference {
  return isStaticTargetText(text) ? parseStaticReference(text) : parseReference(text);
}
