/**
 * Credentials people already have: docker's config.json (`auths` with `auth`, `username`/`password`,
 * `identitytoken` or `registrytoken`; `credHelpers`; `credsStore` through `docker-credential-<name> get`) and
 * podman's auth.json (same format, keys may name a repository: "quay.io/org/app"). The library never reads the
 * environment by itself: loadDefaultCredentials takes `env` and `homeDir` from the caller.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clipInput, deadlineText, isDeadline, ManifestError } from '../errors.js';
import { DOCKER_HUB_CREDENTIAL_KEY, DOCKER_HUB_REGISTRY } from '../ref.js';

/** What to present to a registry: a user and password, or an OAuth2 refresh (identity) token, or a bearer token. */
export interface Credential {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (docker's identity token), exchanged at the token realm with grant_type=refresh_token. */
  identityToken?: string;
  /** A registry bearer token used as is. */
  registryToken?: string;
  /** Where this came from, for messages: "--username", a file path, or "docker-credential-osxkeychain". */
  source: string;
}

/** Looks up credentials for a registry ("docker.io", "r.example:5000"). */
export interface CredentialStore {
  /** Returns the credential for `registry` (and `repository`, for stores whose keys name one), or undefined. */
  get(registry: string, repository?: string): Promise<Credential | undefined>;
  /** Names where it looks, for messages ("--username, ~/.docker/config.json"); when absent, messages say nothing of it. */
  describe?(): string;
}

/** A store that knows no credentials. */
export const anonymousCredentials: CredentialStore = { get: () => Promise.resolve(undefined), describe: () => 'no credential store' };

/** The auth file format shared by docker and podman. */
interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

const MAX_AUTH_FILE = 4 * 1024 * 1024;
const HELPER_TIMEOUT_MS = 30_000;
const HELPER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Returns the hostname docker derives from a config key: scheme and path dropped ("https://x/v1/" is "x"). */
function keyHost(key: string): string {
  let host = key.replace(/^[a-z]+:\/\//i, '');
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  return host.toLowerCase();
}

function keyPath(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '').toLowerCase();
}

function hostAliases(registry: string): string[] {
  return registry === DOCKER_HUB_REGISTRY
    ? [DOCKER_HUB_REGISTRY, 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']
    : [registry.toLowerCase()];
}

function isAuthFile(value: unknown): value is AuthFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const file = value as Record<string, unknown>;
  const isRecord = (v: unknown): v is Record<string, unknown> | undefined => v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v));
  // A helper name that is not a string (null, 5, {}) would be turned into one ("docker-credential-null") and run.
  const helpersAreNames = isRecord(file.credHelpers) && Object.values(file.credHelpers ?? {}).every((name) => typeof name === 'string');
  return isRecord(file.auths) && helpersAreNames && (file.credsStore === undefined || typeof file.credsStore === 'string');
}

/** Says where JSON.parse failed, as " (line L, column C)", or nothing when its message does not tell. */
function jsonErrorPlace(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const position = /end of JSON input/.test(message) ? text.length : Number(/at position (\d+)/.exec(message)?.[1] ?? NaN);
  if (Number.isNaN(position)) return '';
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}

/** Reads an auth file; a missing file is undefined, an unreadable or malformed one is INVALID_INPUT naming it. */
async function readAuthFile(path: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_AUTH_FILE) throw new ManifestError('INVALID_INPUT', `${path}: larger than ${MAX_AUTH_FILE} bytes`);
    text = bytes.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof ManifestError) throw err;
    throw new ManifestError('INVALID_INPUT', `reading credentials file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // V8's message can quote the file ("Unexpected token 'h', "{"password":hunter2}" is not valid JSON"), secrets
    // and all: say only where the error is, and keep the error out of `cause`.
    throw new ManifestError('INVALID_INPUT', `credentials file ${path} is not valid JSON${jsonErrorPlace(text, err)}`);
  }
  if (!isAuthFile(parsed)) {
    throw new ManifestError('INVALID_INPUT', `credentials file ${path}: "auths" must be an object, "credHelpers" an object of helper names, "credsStore" a string`);
  }
  return parsed;
}

function decodeAuthEntry(entry: NonNullable<AuthFile['auths']>[string], source: string, key: string): Credential | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const cred: Credential = { source };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new ManifestError('INVALID_INPUT', `credentials file ${source}: the "auth" of "${clipInput(key, 80)}" is not base64 of "user:password"`);
    cred.username = decoded.slice(0, colon);
    cred.password = decoded.slice(colon + 1);
  } else {
    if (typeof entry.username === 'string') cred.username = entry.username;
    if (typeof entry.password === 'string') cred.password = entry.password;
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') cred.identityToken = entry.identitytoken;
  if (typeof entry.registrytoken === 'string' && entry.registrytoken !== '') cred.registryToken = entry.registrytoken;
  const usable = cred.password !== undefined || cred.identityToken !== undefined || cred.registryToken !== undefined;
  return usable ? cred : undefined;
}

/** Finds the `auths` entry for a registry: the longest key naming the repository or a parent (podman), else the host. */
function findAuthEntry(file: AuthFile, registry: string, repository: string | undefined): [string, NonNullable<AuthFile['auths']>[string]] | undefined {
  const auths = file.auths ?? {};
  const aliases = hostAliases(registry);
  let best: [string, NonNullable<AuthFile['auths']>[string]] | undefined;
  let bestLength = -1;
  for (const [key, entry] of Object.entries(auths)) {
    const path = keyPath(key);
    const host = keyHost(key);
    if (!aliases.includes(host)) continue;
    // A key with a path other than docker's "/v1/" names a namespace or repository (podman's auth.json).
    const rest = path.slice(host.length + 1);
    const scoped = rest !== '' && rest !== 'v1' && rest !== 'v2';
    let length = 0;
    if (scoped) {
      if (repository === undefined || !(repository === rest || repository.startsWith(`${rest}/`))) continue;
      length = rest.length + 1;
    }
    if (length > bestLength) {
      best = [key, entry];
      bestLength = length;
    }
  }
  return best;
}

/** Options of credential helpers and the default store. */
export interface HelperOptions {
  /** Environment for docker-credential-* helpers (PATH is looked up in it); when omitted, an empty one. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The config file that names the helper, for messages; when omitted, "the docker config". */
  configFile?: string;
  /**
   * Stops a helper that is still running (its whole process group is killed) when the command's deadline passes
   * or the user interrupts; when omitted, only the helper's own 30 s limit applies.
   */
  signal?: AbortSignal;
}

/** Most bytes read from a helper's stdout or stderr. */
const MAX_HELPER_OUTPUT = 1024 * 1024;

/** How a helper run ended. */
interface HelperRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `docker-credential-<name> <action>` with `input` on stdin (docker's helper protocol) and returns its stdout.
 * A helper that says "credentials not found" gives ""; one that is not installed is INVALID_INPUT, other failures
 * UNAUTHORIZED with the helper's first line.
 */
export async function execCredentialHelper(name: string, action: 'get' | 'store' | 'erase', input: string, options: HelperOptions = {}): Promise<string> {
  if (!HELPER_NAME.test(name)) throw new ManifestError('INVALID_INPUT', `invalid credential helper name "${clipInput(name, 64)}"`);
  const program = `docker-credential-${name}`;
  const env = Object.fromEntries(Object.entries(options.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
  const named = `${program} (named in ${options.configFile ?? 'the docker config'})`;
  const run = await runHelper(program, action, input, env, options.signal).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ManifestError('INVALID_INPUT', `${program} is not installed, but ${options.configFile ?? 'the docker config'} names it`, { cause: err });
    }
    throw new ManifestError('UNAUTHORIZED', `running ${named}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  if (run === 'timeout') {
    throw new ManifestError('TIMEOUT', `${named} gave no answer within ${HELPER_TIMEOUT_MS / 1000} s; it was stopped`);
  }
  if (run === 'aborted') {
    const reason: unknown = options.signal?.reason;
    if (isDeadline(reason)) throw new ManifestError('TIMEOUT', `${named} was still running when ${deadlineText(reason)}; it was stopped`, { details: { deadline: true } });
    throw new ManifestError('ABORTED', `${named}: interrupted; it was stopped`);
  }
  const said = `${run.stdout}${run.stderr}`.trim();
  if (run.code !== 0) {
    if (/credentials not found/i.test(said)) return '';
    const why = said === '' ? (run.signal === null ? `it exited with code ${String(run.code)} and printed nothing` : `it was killed by ${run.signal}`) : said.split('\n')[0]?.slice(0, 200) ?? '';
    throw new ManifestError('UNAUTHORIZED', `${named}${action === 'get' ? '' : ` ${action}`} failed: ${why}`);
  }
  return run.stdout;
}

/** Asks `docker-credential-<name> get` for a server's credential; undefined when the helper has none. */
export async function runCredentialHelper(name: string, serverUrl: string, options: HelperOptions = {}): Promise<Credential | undefined> {
  const program = `docker-credential-${name}`;
  const output = await execCredentialHelper(name, 'get', serverUrl, options);
  if (output.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    throw new ManifestError('UNAUTHORIZED', `${program} printed something that is not JSON`);
  }
  const { Username, Secret } = (parsed ?? {}) as { Username?: unknown; Secret?: unknown };
  if (typeof Secret !== 'string' || Secret === '') return undefined;
  // docker's convention: the user "<token>" marks the secret as an identity token.
  if (Username === '<token>') return { identityToken: Secret, source: program };
  return { username: typeof Username === 'string' ? Username : '', password: Secret, source: program };
}

/**
 * Runs `program get` with `input` on stdin in a process group of its own, so that a helper which started children
 * of its own (a keychain agent, a cloud CLI) is stopped whole: after HELPER_TIMEOUT_MS ('timeout') or when
 * `signal` aborts ('aborted').
 */
async function runHelper(program: string, action: 'get' | 'store' | 'erase', input: string, env: Record<string, string>, signal: AbortSignal | undefined): Promise<HelperRun | 'timeout' | 'aborted'> {
  // Loaded here: node:child_process (with net and dgram) is ~5 ms of every start, and most runs call no helper.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      resolve('aborted');
      return;
    }
    const child = spawn(program, [action], { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let stopped: 'timeout' | 'aborted' | undefined;
    const collect = (into: Buffer[]) => (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_HELPER_OUTPUT) into.push(chunk);
    };
    const stop = (why: 'timeout' | 'aborted'): void => {
      stopped ??= why;
      try {
        // The negative PID names the process group the detached child leads.
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => stop('timeout'), HELPER_TIMEOUT_MS);
    const onAbort = (): void => stop('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => {
      finish();
      reject(err);
    });
    child.on('close', (code, killedBy) => {
      finish();
      if (stopped !== undefined) resolve(stopped);
      else resolve({ code, signal: killedBy, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.end(input);
  });
}

/** A store over one auth file (docker config.json or podman auth.json). */
export class AuthFileStore implements CredentialStore {
  private file: Promise<AuthFile | undefined> | undefined;
  /** Helper answers by helper and server: a helper runs once per registry, however many repositories ask. */
  private readonly helperAnswers = new Map<string, Promise<Credential | undefined>>();

  constructor(readonly path: string, private readonly options: HelperOptions & { required?: boolean } = {}) {}

  describe(): string {
    return this.path;
  }

  /** Reads and checks the file once (no helper runs); a missing file is INVALID_INPUT when the store is `required`. */
  async load(): Promise<AuthFile | undefined> {
    this.file ??= readAuthFile(this.path);
    const file = await this.file;
    if (file === undefined && this.options.required === true) {
      throw new ManifestError('INVALID_INPUT', `credentials file ${this.path} does not exist`);
    }
    return file;
  }

  async get(registry: string, repository?: string): Promise<Credential | undefined> {
    const file = await this.load();
    if (file === undefined) return undefined;
    const serverUrl = registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_CREDENTIAL_KEY : registry;
    const helpers = file.credHelpers ?? {};
    const helper = hostAliases(registry).map((alias) => helpers[alias]).find((h) => typeof h === 'string')
      ?? (registry === DOCKER_HUB_REGISTRY ? helpers[DOCKER_HUB_CREDENTIAL_KEY] : undefined);
    if (helper !== undefined) return this.askHelper(helper, serverUrl);
    const found = findAuthEntry(file, registry, repository);
    if (file.credsStore !== undefined && file.credsStore !== '') {
      const stored = await this.askHelper(file.credsStore, found?.[0] ?? serverUrl);
      if (stored !== undefined) return stored;
    }
    return found === undefined ? undefined : decodeAuthEntry(found[1], this.path, found[0]);
  }

  private askHelper(helper: string, serverUrl: string): Promise<Credential | undefined> {
    const key = `${helper}\n${serverUrl}`;
    let answer = this.helperAnswers.get(key);
    if (answer === undefined) {
      answer = runCredentialHelper(helper, serverUrl, { ...this.options, configFile: this.path });
      this.helperAnswers.set(key, answer);
    }
    return answer;
  }
}

/** A credential given explicitly (--username/--password) for one registry. */
export class StaticCredentials implements CredentialStore {
  constructor(private readonly registry: string, private readonly credential: Credential) {}

  get(registry: string): Promise<Credential | undefined> {
    return Promise.resolve(registry === this.registry ? this.credential : undefined);
  }

  describe(): string {
    return `${this.credential.source} (for ${this.registry})`;
  }
}

/** Tries stores in order and returns the first credential found. */
export class ChainedCredentials implements CredentialStore {
  private readonly cache = new Map<string, Promise<Credential | undefined>>();

  constructor(private readonly stores: readonly CredentialStore[]) {}

  describe(): string {
    return this.stores.map((s) => s.describe?.()).filter((d) => d !== undefined).join(', ') || 'no credential store';
  }

  get(registry: string, repository?: string): Promise<Credential | undefined> {
    const key = `${registry}/${repository ?? ''}`;
    let found = this.cache.get(key);
    if (found === undefined) {
      found = (async () => {
        for (const store of this.stores) {
          const cred = await store.get(registry, repository);
          if (cred !== undefined) return cred;
        }
        return undefined;
      })();
      this.cache.set(key, found);
    }
    return found;
  }
}

/** Returns the config.json a docker config option names: the file itself, or config.json in the directory. */
export function dockerConfigFile(dirOrFile: string): string {
  return dirOrFile.endsWith('.json') ? dirOrFile : join(dirOrFile, 'config.json');
}

/** Checks that an auth file exists and is well formed (INVALID_INPUT naming it otherwise), running no helper. */
export async function checkAuthFile(path: string): Promise<void> {
  await new AuthFileStore(path, { required: true }).load();
}

/** Options of loadDefaultCredentials. */
export interface DefaultCredentialsOptions {
  /** Environment: DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, and PATH for helpers; when omitted, empty. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Home directory (for ~/.docker/config.json and ~/.config/containers/auth.json); when omitted, those are not read. */
  homeDir?: string;
  /** A docker config directory or config.json file that replaces $DOCKER_CONFIG and ~/.docker; when omitted, those are used. */
  dockerConfig?: string;
  /** Explicit credential for one registry, tried first, and what it is called in messages; when omitted, none. */
  explicit?: { registry: string; username: string; password: string; source?: string };
  /** Stops credential helpers still running when it aborts (see HelperOptions.signal); when omitted, never. */
  signal?: AbortSignal;
}

/**
 * Builds the credential store the CLI uses, in this order: explicit --username/--password (for their registry
 * only), --docker-cfg (else $DOCKER_CONFIG/config.json, else ~/.docker/config.json), then podman's
 * $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json and ~/.config/containers/auth.json.
 */
export function loadDefaultCredentials(options: DefaultCredentialsOptions = {}): CredentialStore {
  const env = options.env ?? {};
  const helperOptions: HelperOptions = { env, ...(options.signal === undefined ? {} : { signal: options.signal }) };
  const stores: CredentialStore[] = [];
  if (options.explicit !== undefined) {
    const { registry, username, password, source } = options.explicit;
    stores.push(new StaticCredentials(registry, { username, password, source: source ?? 'the explicit credential' }));
  }
  if (options.dockerConfig !== undefined) stores.push(new AuthFileStore(dockerConfigFile(options.dockerConfig), { ...helperOptions, required: true }));
  else if (env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== '') stores.push(new AuthFileStore(dockerConfigFile(env.DOCKER_CONFIG), helperOptions));
  else if (options.homeDir !== undefined) stores.push(new AuthFileStore(join(options.homeDir, '.docker', 'config.json'), helperOptions));
  if (env.REGISTRY_AUTH_FILE !== undefined && env.REGISTRY_AUTH_FILE !== '') stores.push(new AuthFileStore(env.REGISTRY_AUTH_FILE, helperOptions));
  if (env.XDG_RUNTIME_DIR !== undefined && env.XDG_RUNTIME_DIR !== '') {
    stores.push(new AuthFileStore(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'), helperOptions));
  }
  if (options.homeDir !== undefined) stores.push(new AuthFileStore(join(options.homeDir, '.config', 'containers', 'auth.json'), helperOptions));
  return new ChainedCredentials(stores);
}
