/**
 * Writing credentials the way `docker login` and `docker logout` do: into the docker config.json's `auths`
 * (base64 "user:password", the file kept private to its owner), or, when the config names a credential helper for
 * the registry (`credHelpers`) or for every registry (`credsStore`), through `docker-credential-<name> store` and
 * `erase`, leaving an empty `auths` entry as docker does. Everything else in the file is kept as it was.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ManifestError } from '../errors.js';
import { makeDirectories } from '../make-directories.js';
import { DOCKER_HUB_CREDENTIAL_KEY, DOCKER_HUB_REGISTRY } from '../ref.js';
import { dockerConfigFile, execCredentialHelper } from './credentials.js';

/** Where the docker config is: the same choice loadDefaultCredentials makes. */
export interface DockerConfigLocation {
  /** Environment (DOCKER_CONFIG, and PATH for helpers); when omitted, empty. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Home directory, for ~/.docker/config.json; needed when neither dockerConfig nor DOCKER_CONFIG is given. */
  homeDir?: string;
  /** A docker config directory or config.json file (--docker-cfg); when omitted, $DOCKER_CONFIG, else ~/.docker. */
  dockerConfig?: string;
}

/** Options of saveCredential. */
export interface SaveCredentialOptions extends DockerConfigLocation {
  /** Registry name ("docker.io", "r.example:5000"). */
  registry: string;
  username: string;
  password: string;
}

/** Where a credential went: the config file, and the helper when one stored it. */
export interface SavedCredential {
  configFile: string;
  helper?: string;
}

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Returns the docker config.json that login writes: --docker-cfg, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(location: DockerConfigLocation): string {
  if (location.dockerConfig !== undefined) return dockerConfigFile(location.dockerConfig);
  const fromEnv = location.env?.DOCKER_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return dockerConfigFile(fromEnv);
  if (location.homeDir === undefined) throw new ManifestError('USAGE', 'no home directory to keep ~/.docker/config.json in: set DOCKER_CONFIG or pass --docker-cfg');
  return join(location.homeDir, '.docker', 'config.json');
}

/** The key docker stores a registry's credential under: Docker Hub's historical URL, else the host. */
export function credentialKey(registry: string): string {
  return registry === DOCKER_HUB_REGISTRY ? DOCKER_HUB_CREDENTIAL_KEY : registry;
}

type ConfigObject = Record<string, unknown>;

function isObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readConfig(path: string): Promise<ConfigObject> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_CONFIG_BYTES) throw new ManifestError('INVALID_INPUT', `${path}: larger than ${MAX_CONFIG_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    if (err instanceof ManifestError) throw err;
    throw new ManifestError('INVALID_INPUT', `reading ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not quoting the parser's message: it can quote the file, secrets and all.
    throw new ManifestError('INVALID_INPUT', `${path} is not valid JSON; fix or remove it first (nothing was written)`);
  }
  if (!isObject(parsed) || (parsed.auths !== undefined && !isObject(parsed.auths)) || (parsed.credHelpers !== undefined && !isObject(parsed.credHelpers))) {
    throw new ManifestError('INVALID_INPUT', `${path}: "auths" and "credHelpers" must be objects (nothing was written)`);
  }
  return parsed;
}

/** Writes the config as docker does (tab-indented JSON, mode 0600), through a temporary file renamed into place. */
async function writeConfig(path: string, config: ConfigObject): Promise<void> {
  await makeDirectories(dirname(path), 0o700);
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new ManifestError('INVALID_INPUT', `writing ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Returns the helper the config names for a registry: its credHelpers entry, else credsStore. */
function helperFor(config: ConfigObject, registry: string): string | undefined {
  const helpers = isObject(config.credHelpers) ? config.credHelpers : {};
  const named = helpers[registry] ?? (registry === DOCKER_HUB_REGISTRY ? helpers[DOCKER_HUB_CREDENTIAL_KEY] ?? helpers['index.docker.io'] : undefined);
  if (typeof named === 'string' && named !== '') return named;
  return typeof config.credsStore === 'string' && config.credsStore !== '' ? config.credsStore : undefined;
}

/**
 * Saves a credential (checked by the caller first) as `docker login` does: through the configured helper, or into
 * config.json's `auths`. Other entries and settings of the file are kept.
 */
export async function saveCredential(options: SaveCredentialOptions): Promise<SavedCredential> {
  const configFile = dockerConfigPath(options);
  const config = await readConfig(configFile);
  const key = credentialKey(options.registry);
  const auths: ConfigObject = isObject(config.auths) ? { ...config.auths } : {};
  const helper = helperFor(config, options.registry);
  if (helper !== undefined) {
    const input = JSON.stringify({ ServerURL: key, Username: options.username, Secret: options.password });
    await execCredentialHelper(helper, 'store', input, { ...(options.env === undefined ? {} : { env: options.env }), configFile });
    // docker leaves an empty entry, so `docker info` and tools reading the file know a login exists.
    auths[key] = {};
  } else {
    auths[key] = { auth: Buffer.from(`${options.username}:${options.password}`).toString('base64') };
  }
  await writeConfig(configFile, { ...config, auths });
  return { configFile, ...(helper === undefined ? {} : { helper: `docker-credential-${helper}` }) };
}

/** Options of removeCredential. */
export interface RemoveCredentialOptions extends DockerConfigLocation {
  registry: string;
}

/**
 * Removes a registry's credential as `docker logout` does: erased from its helper, and its `auths` entry removed.
 * Returns false when there was nothing to remove (no entry, and the helper had none).
 */
export async function removeCredential(options: RemoveCredentialOptions): Promise<boolean> {
  const configFile = dockerConfigPath(options);
  const config = await readConfig(configFile);
  const key = credentialKey(options.registry);
  const auths: ConfigObject = isObject(config.auths) ? { ...config.auths } : {};
  // Docker Hub logins may sit under any of its names.
  const keys = Object.keys(auths).filter((k) => k === key || (options.registry === DOCKER_HUB_REGISTRY && /^(?:https?:\/\/)?(?:index\.)?docker\.io(?:\/|$)/.test(k)));
  let removed = keys.length > 0;
  const helper = helperFor(config, options.registry);
  if (helper !== undefined) {
    const had = await execCredentialHelper(helper, 'get', key, { ...(options.env === undefined ? {} : { env: options.env }), configFile });
    if (had.trim() !== '') {
      await execCredentialHelper(helper, 'erase', key, { ...(options.env === undefined ? {} : { env: options.env }), configFile });
      removed = true;
    }
  }
  if (keys.length > 0) {
    for (const k of keys) delete auths[k];
    await writeConfig(configFile, { ...config, auths });
  }
  return removed;
}
