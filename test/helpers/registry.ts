// A real registry (Debian's docker-registry, distribution 2.8) on a free loopback port with temporary storage,
// in three modes: plain HTTP, TLS + htpasswd basic auth, TLS + token auth from an in-process token server.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants as fsConstants, openSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { createCertificates, createClientCertificate } from './certificates.js';
import type { ClientCertificate, TestCertificates } from './certificates.js';
import { trackChild, trackDir, untrackDir } from './exit-cleanup.js';
import { putManifestBytes } from './registry-api.js';
import type { RegistryApi } from './registry-api.js';
import { runCommand } from './run-command.js';
import { seedImage as pushSeedImage, seedIndex as pushSeedIndex } from './seed.js';
import { prepareSkopeoEnvironment, runSkopeo, skopeoArguments } from './skopeo.js';
import type { SkopeoAccess } from './skopeo.js';
import { startTokenServer } from './token-server.js';
import type { TokenServer } from './token-server.js';

export type RegistryMode = 'plain' | 'basic' | 'token';

export interface StartRegistryOptions {
  /** token mode: whether the token server grants `pull` to anonymous requests (default true). */
  anonymousPull?: boolean;
  /** TLS modes: the registry requires a client certificate signed by its CA (mutual TLS); certsDir holds one. */
  requireClientCertificate?: boolean;
  /** token mode: whether the user is granted `push` (default true; false: a read-only account). */
  userPush?: boolean;
  /** token mode: seconds the registry honours a token, though the token server says 300 (tokens revoked early). */
  tokenValiditySeconds?: number;
}

export interface TestRegistry {
  readonly mode: RegistryMode;
  /** "127.0.0.1:PORT". */
  readonly host: string;
  /** "http://127.0.0.1:PORT" (plain) or "https://127.0.0.1:PORT". */
  readonly url: string;
  /** Temp root of this registry (storage, config, certs); removed by stop(). */
  readonly dir: string;
  /** TLS modes: PEM of the generated CA that signed the server cert. */
  readonly caFile?: string;
  /** TLS modes: a dir laid out like /etc/docker/certs.d: `${certsDir}/${host}/ca.crt` (token server host too). */
  readonly certsDir?: string;
  /** basic & token modes ('tester'). */
  readonly username?: string;
  /** basic & token modes (random per start). */
  readonly password?: string;
  /** token mode: realm URL of the token server (https, same CA). */
  readonly tokenUrl?: string;
  /** token mode: count of token requests served so far (for tests that check caching). */
  tokenRequests(): number;
  /** Uploads a tiny image (config + `layers` random layer blobs, default 1) through the registry API and PUTs its manifest (under `tag` if given, else by digest). */
  seedImage(options: SeedImageOptions): Promise<SeededImage>;
  /** PUTs a manifest list (mediaType 'docker') or OCI index ('oci') over already-seeded children in the same repository. */
  seedIndex(options: SeedIndexOptions): Promise<SeededManifest>;
  /** PUTs arbitrary manifest bytes with the given Content-Type, under a tag or digest; returns the registry's response status and Docker-Content-Digest. */
  putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<{ status: number; digest: string | undefined }>;
  /** Runs skopeo with the TLS/cert-dir and credential flags this registry needs for `subcommand` (e.g. 'inspect', 'copy'), after `globalArgs` (such as --override-arch); returns code/stdout/stderr, never throws on non-zero exit. Time-bounded (60 s). */
  skopeo(subcommand: string, args: string[], globalArgs?: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops the registry and token server (by the PIDs/servers it started) and removes dir. Idempotent. */
  stop(): Promise<void>;
}

export interface SeedImageOptions {
  repository: string;
  tag?: string;
  platform: { os: string; architecture: string; variant?: string; 'os.version'?: string; 'os.features'?: string[] };
  /** default 'docker': Docker v2 manifest, config and layer media types; 'oci': the OCI ones. */
  format?: 'docker' | 'oci';
  /** default 1; each layer is gzip of a few hundred random bytes (not a real tar). */
  layers?: number;
  /**
   * Makes the image the same on every run (its digest can be written in a test): one layer holding this text in a
   * stored (uncompressed) gzip member built byte by byte, instead of random layers. `layers` is then ignored.
   */
  content?: string;
  /** Further top-level fields of the image config, such as `created` or `config: {Env, Cmd, Labels}`. */
  configFields?: Record<string, unknown>;
}

export interface SeededManifest { repository: string; tag?: string; digest: string; size: number; mediaType: string; bytes: Uint8Array }

export interface SeededImage extends SeededManifest {
  platform: SeedImageOptions['platform'];
  config: { digest: string; size: number; mediaType: string };
  layers: { digest: string; size: number; mediaType: string }[];
}

export interface SeedIndexOptions {
  repository: string;
  tag?: string;
  /** default 'docker' (application/vnd.docker.distribution.manifest.list.v2+json); 'oci' = application/vnd.oci.image.index.v1+json. */
  format?: 'docker' | 'oci';
  /** Entries in this order, platform copied from each child. */
  children: SeededImage[];
  /** oci only, index-level. */
  annotations?: Record<string, string>;
}

const USERNAME = 'tester';
const SERVICE = 'test-registry';
const ISSUER = 'test-issuer';
const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 75;
const PROBE_TIMEOUT_MS = 1_000;
/** A port picked by listen(0) can be taken before the registry binds it; retry that race this many times. */
const PORT_RACE_RETRIES = 3;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_CHARS = 4_000;

/** Reports whether docker-registry and skopeo are both executable somewhere on PATH. */
export function registryAvailable(): boolean {
  return isOnPath('docker-registry') && isOnPath('skopeo');
}

/** Tells whether an executable `command` is on PATH. */
export function isOnPath(command: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '').some((d) => {
    try {
      accessSync(join(d, command), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Asks the kernel for a free loopback port, then releases it for the registry to bind (racy; see retries). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** What the mode adds on top of plain HTTP: certificates, credentials, a token server, the registry's auth YAML. */
interface Security {
  certificates?: TestCertificates;
  clientCertificate?: ClientCertificate;
  username?: string;
  password?: string;
  tokenServer?: TokenServer;
  authYaml: string[];
}

/** Quotes a YAML scalar; JSON strings are valid YAML double-quoted scalars. */
function q(value: string): string {
  return JSON.stringify(value);
}

async function writeHtpasswd(dir: string, password: string): Promise<string> {
  // distribution 2.8 accepts only bcrypt entries in htpasswd files.
  const result = await runCommand('htpasswd', ['-Bbn', USERNAME, password], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`htpasswd failed (${result.code}): ${result.stderr.trim()}`);
  const file = join(dir, 'htpasswd');
  await writeFile(file, `${result.stdout.trim()}\n`);
  return file;
}

/** Prepares certificates, credentials and auth configuration for mode; token mode also starts the token server. */
async function prepareSecurity(
  mode: RegistryMode,
  dir: string,
  options: StartRegistryOptions,
  onCleanup: (fn: () => Promise<void>) => void,
): Promise<Security> {
  if (mode === 'plain') return { authYaml: [] };
  const certificates = await createCertificates(dir);
  const clientCertificate = options.requireClientCertificate === true ? await createClientCertificate(dir) : undefined;
  const mtls = clientCertificate === undefined ? {} : { clientCertificate };
  const password = randomBytes(12).toString('hex');
  if (mode === 'basic') {
    const htpasswd = await writeHtpasswd(dir, password);
    const authYaml = ['auth:', '  htpasswd:', `    realm: ${q(SERVICE)}`, `    path: ${q(htpasswd)}`];
    return { certificates, ...mtls, username: USERNAME, password, authYaml };
  }
  const tokenServer = await startTokenServer({
    certFile: certificates.serverCertFile,
    keyFile: certificates.serverKeyFile,
    signingCertFile: certificates.signingCertFile,
    signingKeyFile: certificates.signingKeyFile,
    service: SERVICE,
    issuer: ISSUER,
    username: USERNAME,
    password,
    anonymousPull: options.anonymousPull ?? true,
    ...(options.userPush === undefined ? {} : { userPush: options.userPush }),
    ...(options.tokenValiditySeconds === undefined ? {} : { tokenValiditySeconds: options.tokenValiditySeconds }),
  });
  onCleanup(() => tokenServer.close());
  const authYaml = [
    'auth:',
    '  token:',
    `    realm: ${q(tokenServer.realm)}`,
    `    service: ${q(SERVICE)}`,
    `    issuer: ${q(ISSUER)}`,
    // The self-signed signing certificate is its own root: distribution 2.8 verifies the x5c leaf against this bundle.
    `    rootcertbundle: ${q(certificates.signingCertFile)}`,
  ];
  return { certificates, ...mtls, username: USERNAME, password, tokenServer, authYaml };
}

/** Writes the registry's YAML config for port: no debug server, no health checks, errors-only logging. */
function registryConfig(dir: string, port: number, security: Security): string {
  const tls = security.certificates;
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(join(dir, 'storage'))}`,
    '  delete:',
    '    enabled: true',
    // Upload purging runs a background walker we do not want during tests.
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${q(`127.0.0.1:${port}`)}`,
    `  secret: ${q(randomBytes(16).toString('hex'))}`,
    ...(tls === undefined ? [] : ['  tls:', `    certificate: ${q(tls.serverCertFile)}`, `    key: ${q(tls.serverKeyFile)}`]),
    // clientcas makes distribution require and verify a client certificate (mutual TLS).
    ...(tls === undefined || security.clientCertificate === undefined ? [] : ['    clientcas:', `      - ${q(tls.caFile)}`]),
    // No http.debug section: distribution 2.8 starts the debug (pprof/metrics) server only when debug.addr is set.
    'health:',
    '  storagedriver:',
    '    enabled: false',
    ...security.authYaml,
    '',
  ].join('\n');
}

/** The registry's environment without REGISTRY_* variables, which would silently override our config file. */
function registryEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('REGISTRY_')));
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once child has exited, false after ms. */
function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    child.once('exit', onExit);
  });
}

/** Stops a child we spawned: SIGTERM, then SIGKILL if it lingers. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, STOP_GRACE_MS)) return;
  child.kill('SIGKILL');
  await waitForExit(child, STOP_GRACE_MS);
}

/** One readiness probe: true when GET /v2/ answers 200 or 401. */
async function probeOnce(url: string, dispatcher: Agent): Promise<boolean> {
  try {
    // The abort signal also bounds connect and TLS handshake, which headersTimeout does not cover: in a port race
    // the port may belong to a process that accepts and never answers.
    const response = await request(`${url}/v2/`, { dispatcher, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.body.dump();
    return response.statusCode === 200 || response.statusCode === 401;
  } catch {
    return false; // Not listening yet (ECONNREFUSED) or still starting.
  }
}

/** Polls GET /v2/ until it answers 200 or 401, the child exits, or READY_TIMEOUT_MS passes. */
async function waitUntilReady(url: string, dispatcher: Agent, child: ChildProcess): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // Resolves on exit so a probe never outlives the child; a listener, not a timer, so nothing lingers afterwards.
  let onExit = (): void => undefined;
  const exited = new Promise<'exited'>((resolve) => {
    onExit = () => resolve('exited');
    child.once('exit', onExit);
  });
  try {
    for (let poll = 0; poll < READY_TIMEOUT_MS / READY_POLL_MS && Date.now() < deadline; poll++) {
      if (hasExited(child)) return 'exited';
      const outcome = await Promise.race([probeOnce(url, dispatcher), exited]);
      // Check the child too: after a lost port race, whoever owns the port might answer the probe.
      if (outcome === 'exited' || hasExited(child)) return 'exited';
      if (outcome) return 'ready';
      await sleep(READY_POLL_MS);
    }
    return hasExited(child) ? 'exited' : 'timeout';
  } finally {
    child.off('exit', onExit);
  }
}

async function logTail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.slice(-LOG_TAIL_CHARS).trim();
}

/** Spawns `docker-registry serve CONFIG` with output to a log file (no pipes, so it never holds our event loop). */
function spawnRegistry(configFile: string, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', fd, fd], env: registryEnvironment() });
    trackChild(child);
    // A test that never calls stop() must not hang the test process; the exit hook kills the child.
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Starts the registry on a free port, retrying when it exits early (the port was taken in between). */
async function launchRegistry(
  dir: string,
  scheme: 'http' | 'https',
  security: Security,
  dispatcher: Agent,
): Promise<{ child: ChildProcess; port: number }> {
  const configFile = join(dir, 'config.yml');
  const logFile = join(dir, 'registry.log');
  const failures: string[] = [];
  for (let attempt = 0; attempt <= PORT_RACE_RETRIES; attempt++) {
    const port = await findFreePort();
    await writeFile(configFile, registryConfig(dir, port, security));
    const child = spawnRegistry(configFile, logFile);
    const state = await waitUntilReady(`${scheme}://127.0.0.1:${port}`, dispatcher, child);
    if (state === 'ready') return { child, port };
    await stopChild(child);
    const log = await logTail(logFile);
    if (state === 'timeout') {
      throw new Error(`docker-registry on port ${port} not ready after ${READY_TIMEOUT_MS} ms; log:\n${log}`);
    }
    failures.push(`attempt ${attempt + 1} (port ${port}) exited with ${child.exitCode ?? child.signalCode}`);
  }
  throw new Error(`docker-registry did not start: ${failures.join('; ')}; log:\n${await logTail(logFile)}`);
}

/**
 * Lays out `${certsDir}/<host>/ca.crt` for the registry and, in token mode, the token server's host; with mutual
 * TLS, the registry's directory also gets `client.cert` and `client.key`.
 */
async function writeCertsDir(dir: string, caFile: string, hosts: string[], client: ClientCertificate | undefined): Promise<string> {
  const certsDir = join(dir, 'certs.d');
  for (const [i, host] of hosts.entries()) {
    await mkdir(join(certsDir, host), { recursive: true });
    await copyFile(caFile, join(certsDir, host, 'ca.crt'));
    if (i === 0 && client !== undefined) {
      await copyFile(client.certFile, join(certsDir, host, 'client.cert'));
      await copyFile(client.keyFile, join(certsDir, host, 'client.key'));
    }
  }
  return certsDir;
}

/** How the harness itself authenticates its seeding requests. */
function harnessAuthorization(security: Security): (repository: string) => string | undefined {
  const { tokenServer, password } = security;
  if (tokenServer !== undefined) {
    // Mint directly instead of asking the token server over HTTP, so tokenRequests() counts only the tests' clients.
    return (repository) =>
      `Bearer ${tokenServer.mintToken(USERNAME, [{ type: 'repository', name: repository, actions: ['pull', 'push', 'delete'] }])}`;
  }
  if (password !== undefined) {
    const basic = `Basic ${Buffer.from(`${USERNAME}:${password}`).toString('base64')}`;
    return () => basic;
  }
  return () => undefined;
}

/** Starts a registry in mode on a free loopback port, with its storage and config in a fresh temp dir. */
export async function startRegistry(mode: RegistryMode, options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), `manifest-registry-${mode}-`));
  trackDir(dir);
  const cleanups: (() => Promise<void>)[] = [];
  const runCleanups = async (): Promise<void> => {
    // Reverse order: the registry goes before the token server it depends on, the dir goes last.
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
    untrackDir(dir);
  };
  try {
    const security = await prepareSecurity(mode, dir, options, (fn) => cleanups.push(fn));
    const caPem = security.certificates === undefined ? undefined : await readFile(security.certificates.caFile, 'utf8');
    const client = security.clientCertificate;
    const clientPem = client === undefined ? {} : { cert: await readFile(client.certFile, 'utf8'), key: await readFile(client.keyFile, 'utf8') };
    const dispatcher = new Agent({ connect: caPem === undefined ? {} : { ca: caPem, ...clientPem }, keepAliveTimeout: 1_000 });
    // destroy, not close: close would wait for a readiness probe still stuck in a TLS handshake after a port race.
    cleanups.push(() => dispatcher.destroy());
    const scheme = caPem === undefined ? 'http' : 'https';
    const { child, port } = await launchRegistry(dir, scheme, security, dispatcher);
    cleanups.push(() => stopChild(child));
    return await assembleRegistry({ mode, dir, port, scheme, security, dispatcher, stop: runCleanups });
  } catch (err) {
    await runCleanups();
    throw err;
  }
}

interface AssembleOptions {
  mode: RegistryMode;
  dir: string;
  port: number;
  scheme: 'http' | 'https';
  security: Security;
  dispatcher: Agent;
  stop: () => Promise<void>;
}

/** Builds the TestRegistry object for a running registry. */
async function assembleRegistry(o: AssembleOptions): Promise<TestRegistry> {
  const host = `127.0.0.1:${o.port}`;
  const url = `${o.scheme}://${host}`;
  const { certificates, tokenServer, username, password } = o.security;
  const tokenHost = tokenServer === undefined ? [] : [new URL(tokenServer.realm).host];
  const certsDir = certificates === undefined ? undefined : await writeCertsDir(o.dir, certificates.caFile, [host, ...tokenHost], o.security.clientCertificate);
  const api: RegistryApi = { baseUrl: url, dispatcher: o.dispatcher, authorization: harnessAuthorization(o.security) };
  const skopeoEnvironment = await prepareSkopeoEnvironment(o.dir);
  const access: SkopeoAccess = {
    isTlsVerified: certsDir !== undefined,
    ...(certsDir !== undefined && { certDir: join(certsDir, host) }),
    ...(username !== undefined && password !== undefined && { credentials: `${username}:${password}` }),
  };
  let stopping: Promise<void> | undefined;
  return {
    mode: o.mode,
    host,
    url,
    dir: o.dir,
    ...(certificates !== undefined && { caFile: certificates.caFile }),
    ...(certsDir !== undefined && { certsDir }),
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    ...(tokenServer !== undefined && { tokenUrl: tokenServer.realm }),
    tokenRequests: () => tokenServer?.requests() ?? 0,
    seedImage: (options) => pushSeedImage(api, options),
    seedIndex: (options) => pushSeedIndex(api, options),
    putManifest: async (repository, reference, bytes, mediaType) => {
      const { status, digest } = await putManifestBytes(api, repository, reference, bytes, mediaType);
      return { status, digest };
    },
    skopeo: (subcommand, args, globalArgs = []) =>
      runSkopeo([...globalArgs, ...skopeoArguments(subcommand, args, access, skopeoEnvironment.policyFile)], skopeoEnvironment),
    stop: () => (stopping ??= o.stop()),
  };
}
