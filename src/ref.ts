/**
 * Image references, parsed and normalised the way the docker CLI does (distribution/reference):
 * `alpine` is docker.io/library/alpine:latest; the first path component is a registry host when it has a dot,
 * a colon, brackets (IPv6), upper-case letters, or is `localhost`.
 *
 * Every pattern here is anchored and applied to pieces of capped length, one component at a time: the old
 * distribution name pattern (with `[-]*` separators in one big expression) backtracks catastrophically.
 */
import { isDigest, type Digest } from './digest.js';
import { clipInput, ManifestError } from './errors.js';

/** Registry name docker uses for Docker Hub in references and credential lookups. */
export const DOCKER_HUB_REGISTRY = 'docker.io';
/** Host that serves Docker Hub's registry API. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** Key docker's config.json uses for Docker Hub credentials. */
export const DOCKER_HUB_CREDENTIAL_KEY = 'https://index.docker.io/v1/';

/** Tells whether a registry host ("127.0.0.1:5000", "localhost", "[::1]:5000", or a bare hostname) is on loopback. */
export function isLoopbackHost(host: string): boolean {
  return /^(?:localhost|127\.[0-9.]+|\[::1\]|::1)(?::[0-9]+)?$/.test(host.toLowerCase());
}

/** Longest repository name with its registry, as distribution allows. */
export const MAX_NAME_LENGTH = 255;
/** Longest tag. */
export const MAX_TAG_LENGTH = 128;
const MAX_REFERENCE_LENGTH = 1024;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const PORT = /^[0-9]{1,5}$/;

/** A parsed image reference: registry, repository, and a tag, a digest, or both. */
export class Reference {
  /** Registry as named in references: "docker.io", "r.example:5000", "[::1]:5000". */
  readonly registry: string;
  /** Repository path inside the registry: "library/alpine". */
  readonly repository: string;
  /** Tag, when the reference has one (or "latest" when it had neither tag nor digest). */
  readonly tag: string | undefined;
  /** Digest, when the reference pins one. */
  readonly digest: Digest | undefined;
  /** The text the user typed, for messages. */
  readonly original: string;

  /** Builds a reference from its parts, checking each as parseReference does (throws INVALID_REFERENCE). */
  constructor(parts: { registry: string; repository: string; tag?: string | undefined; digest?: Digest | undefined; original?: string }) {
    const shown = parts.original ?? `${parts.registry}/${parts.repository}`;
    checkHost(parts.registry, shown);
    checkRepository(parts.repository.split('/'), shown);
    if (parts.tag !== undefined) checkTag(parts.tag, shown);
    if (parts.digest !== undefined && !isDigest(parts.digest)) fail(shown, `digest "${clip(parts.digest)}" is not valid`);
    this.registry = parts.registry;
    this.repository = parts.repository;
    this.tag = parts.tag;
    this.digest = parts.digest;
    this.original = parts.original ?? this.toString();
  }

  /** Returns "registry/repository". */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** Returns the host to send registry API requests to (docker.io is served by registry-1.docker.io). */
  get apiHost(): string {
    return this.registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_API_HOST : this.registry;
  }

  /** Returns what goes after /manifests/ in the API: the digest when pinned, else the tag. */
  get identifier(): string {
    return this.digest ?? this.tag ?? 'latest';
  }

  /** Returns the canonical form: "registry/repository[:tag][@digest]". */
  toString(): string {
    return `${this.name}${this.tag === undefined ? '' : `:${this.tag}`}${this.digest === undefined ? '' : `@${this.digest}`}`;
  }

  /** Returns the same repository pinned to `digest` (the tag is dropped). */
  withDigest(digest: Digest): Reference {
    return new Reference({ registry: this.registry, repository: this.repository, digest });
  }

  /** Returns the same repository at `tag` (the digest is dropped). */
  withTag(tag: string): Reference {
    checkTag(tag, tag);
    return new Reference({ registry: this.registry, repository: this.repository, tag });
  }
}

/** `user:password@` typed before the host, as in a URL: a reference never has "@" before its first "/". */
const TYPED_CREDENTIALS = /^[^/@]*:[^/@]*@(?=[^/@]+\/)/;

function fail(original: string, reason: string): never {
  const shown = original.replace(TYPED_CREDENTIALS, '[redacted]@');
  throw new ManifestError('INVALID_REFERENCE', `invalid reference "${clipInput(shown, 120)}": ${reason}`);
}

function clip(text: string): string {
  return clipInput(text, 40);
}

function checkTag(tag: string, original: string): void {
  if (tag.length > MAX_TAG_LENGTH) fail(original, `tag is longer than ${MAX_TAG_LENGTH} characters`);
  if (!TAG.test(tag)) {
    fail(original, `tag "${clip(tag)}" may hold only letters, digits, "_", "." and "-", and must not start with "." or "-"`);
  }
}

function checkRepository(components: readonly string[], original: string): void {
  for (const component of components) {
    if (component === '') fail(original, 'the repository name has an empty path component ("//" or a trailing "/")');
    if (!PATH_COMPONENT.test(component)) {
      if (PATH_COMPONENT.test(component.toLowerCase())) fail(original, `repository names must be lower case ("${clip(component)}")`);
      fail(original, `repository path component "${clip(component)}" may hold only lower-case letters, digits and single separators (".", "_", "__", "-")`);
    }
  }
}

function looksLikeHost(component: string): boolean {
  return component === 'localhost' || component.includes('.') || component.includes(':')
    || component.startsWith('[') || component !== component.toLowerCase();
}

function checkHost(host: string, original: string): void {
  let hostname = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) fail(original, `registry "${clip(host)}" has an unclosed "["`);
    hostname = host.slice(1, close);
    const rest = host.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) fail(original, `registry "${clip(host)}" has text after "]"`);
      port = rest.slice(1);
    }
    if (!isIPv6Address(hostname)) fail(original, `registry "${clip(host)}" is not a valid IPv6 address`);
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) {
      hostname = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
    if (hostname === '' || !hostname.split('.').every((label) => HOST_LABEL.test(label))) {
      fail(original, `registry host "${clip(hostname)}" is not a valid host name`);
    }
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) === 0 || Number(port) > 65535)) {
    fail(original, `registry port "${clip(port)}" is not a number from 1 to 65535`);
  }
}

/** Options of parseReference. */
export interface ParseReferenceOptions {
  /** Tag to use when the reference has neither tag nor digest; when omitted, "latest". Pass null to keep none. */
  defaultTag?: string | null;
}

/** Tells whether a target names a static store (`dir:` or `s3://`) rather than a registry. */
export function isStaticTargetText(text: string): boolean {
  return text.startsWith('dir:') || text.startsWith('s3://');
}

/**
 * Tells whether `text`, parsed as `ref`, is likely a registry host given without its repository: "127.0.0.1:5000"
 * names Docker Hub's library/127.0.0.1 at tag 5000. `certain` when the part before the port can only be a host
 * (it holds a dot or is localhost); "registry:5000" may be either.
 */
export function bareRegistryHost(text: string, ref: Reference): { certain: boolean } | undefined {
  if (text.includes('/') || ref.tag === undefined || !/^[0-9]+$/.test(ref.tag)) return undefined;
  const host = text.slice(0, text.lastIndexOf(':'));
  return { certain: host.includes('.') || host === 'localhost' };
}

/**
 * Tells whether `text` is an IPv6 address as a URL's host may hold it: hex digits, colons and dots only (no zone
 * id such as "%eth0"), in a form the WHATWG URL parser accepts. (node:net's isIPv6 would do, but loading net costs
 * every command's start-up, and ref.ts is loaded by all of them.)
 */
function isIPv6Address(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return false;
  try {
    return new URL(`http://[${text}]/`).hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Parses and normalises an image reference, or throws INVALID_REFERENCE naming the bad part.
 * Accepts `name`, `name:tag`, `name@digest` and `name:tag@digest`, with an optional `host[:port]/` prefix.
 */
export function parseReference(input: string, options: ParseReferenceOptions = {}): Reference {
  if (typeof input !== 'string' || input === '') fail(String(input), 'it is empty');
  if (input.length > MAX_REFERENCE_LENGTH) fail(input, `it is longer than ${MAX_REFERENCE_LENGTH} characters`);
  if (/\s/.test(input)) fail(input, 'it contains white space');
  // dir: and s3:// name a static registry's files: pushes write them, inspect, digest and static ls read them;
  // other commands read them through the server that serves them.
  if (isStaticTargetText(input)) fail(input, 'it names a static registry\'s files, which this command does not read: manifest inspect, digest and static ls do, or read them through the web server that serves them (host/repo:tag)');
  if (input.includes('://')) fail(input, 'a reference has no scheme: write "host/repo:tag", not a URL');

  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digestText = rest.slice(at + 1);
    if (!isDigest(digestText)) fail(input, `digest "${clip(digestText)}" is invalid: expected "sha256:" and 64 lowercase hex digits (or sha384, sha512)`);
    digest = digestText;
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash && !(lastSlash < 0 && rest.startsWith('['))) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    checkTag(tag, input);
  }

  if (rest === '') fail(input, 'the repository name is missing');
  const components = rest.split('/');
  let registry = DOCKER_HUB_REGISTRY;
  const first = components[0] ?? '';
  if (components.length > 1 && looksLikeHost(first)) {
    checkHost(first, input);
    registry = first === 'index.docker.io' ? DOCKER_HUB_REGISTRY : first;
    components.shift();
  } else if (components.length === 1 && looksLikeHost(first) && first !== first.toLowerCase()) {
    fail(input, 'repository names must be lower case');
  }
  if (components.length === 0) fail(input, 'the repository name is missing');
  checkRepository(components, input);
  if (registry === DOCKER_HUB_REGISTRY && components.length === 1) components.unshift('library');
  const repository = components.join('/');
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    fail(input, `the name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (tag === undefined && digest === undefined && options.defaultTag !== null) tag = options.defaultTag ?? 'latest';
  return new Reference({ registry, repository, tag, digest, original: input });
}
