// A real web server (Debian's nginx or Apache httpd, or Caddy) on a free loopback port, serving a configuration `manifest static
// serve-config` generated: one process (nginx with master_process off, as root, so it reads the test's private
// temp dirs), its pid, logs and temp files in a temp dir, stopped by the ChildProcess we spawned.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { trackChild, trackDir, untrackDir } from './exit-cleanup.js';
import { findFreePort, isOnPath } from './registry.js';

export interface TestNginx {
  /** "127.0.0.1:PORT". */
  readonly host: string;
  readonly url: string;
  /** Starts nginx again with the server block now in `configFile` (a regenerated configuration). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;
const PORT_RACE_RETRIES = 3;

/** Tells whether Caddy is installed. */
export function caddyAvailable(): boolean {
  return isOnPath('caddy');
}

/** Tells whether nginx is installed. */
export function nginxAvailable(): boolean {
  return isOnPath('nginx') || isOnPath('/usr/sbin/nginx');
}

/** Tells whether Apache httpd (Debian's apache2) is installed. */
export function apacheAvailable(): boolean {
  return isOnPath('apache2') || isOnPath('/usr/sbin/apache2');
}

function apacheCommand(): string {
  return isOnPath('apache2') ? 'apache2' : '/usr/sbin/apache2';
}

/** Debian's directory of Apache modules. */
const APACHE_MODULES = '/usr/lib/apache2/modules';

/**
 * Apache's main configuration: the modules a serve-config virtual host needs (headers, mime, dir, authz_core) and
 * everything it writes kept in `dir`. Its workers run as nobody, so the served tree must be world-readable.
 */
function apacheConfig(dir: string, siteFile: string): string {
  const module = (name: string): string => `LoadModule ${name}_module ${JSON.stringify(join(APACHE_MODULES, `mod_${name}.so`))}`;
  return [
    `ServerRoot ${JSON.stringify(dir)}`,
    'ServerName 127.0.0.1',
    'User nobody',
    'Group nogroup',
    `PidFile ${JSON.stringify(join(dir, 'apache.pid'))}`,
    `ErrorLog ${JSON.stringify(join(dir, 'error.log'))}`,
    'LogLevel warn',
    `DefaultRuntimeDir ${JSON.stringify(dir)}`,
    `Mutex file:${dir} default`,
    module('mpm_event'),
    ...['authz_core', 'mime', 'dir', 'headers'].map(module),
    'TypesConfig /etc/mime.types',
    `Include ${JSON.stringify(siteFile)}`,
    '',
  ].join('\n');
}

function nginxCommand(): string {
  return isOnPath('nginx') ? 'nginx' : '/usr/sbin/nginx';
}

function mainConfig(dir: string, serverFile: string): string {
  const temp = (name: string): string => `${name}_temp_path ${JSON.stringify(join(dir, 'tmp', name))};`;
  return [
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${JSON.stringify(join(dir, 'nginx.pid'))};`,
    `error_log ${JSON.stringify(join(dir, 'error.log'))} warn;`,
    'events { worker_connections 64; }',
    'http {',
    '    access_log off;',
    `    ${temp('client_body')}`,
    `    ${temp('proxy')}`,
    `    ${temp('fastcgi')}`,
    `    ${temp('uwsgi')}`,
    `    ${temp('scgi')}`,
    `    include ${JSON.stringify(serverFile)};`,
    '}',
    '',
  ].join('\n');
}

async function ready(url: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const response = await request(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) });
      await response.body.dump();
      if (response.statusCode === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(75);
  }
  return false;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts nginx with the server block that `writeServer(listen)` writes to a file (it is given "127.0.0.1:PORT"
 * and returns the file's path), retrying on another port when the port was taken in between.
 */
export function startNginx(writeServer: (listen: string) => Promise<string>): Promise<TestNginx> {
  return startServer('nginx', writeServer);
}

/**
 * Starts Caddy with the site block that `writeServer(listen)` writes (the same contract as startNginx), without
 * its admin endpoint, automatic HTTPS or saved state, its home in the temp dir.
 */
export function startCaddy(writeServer: (listen: string) => Promise<string>): Promise<TestNginx> {
  return startServer('caddy', writeServer);
}

/**
 * Starts Apache httpd in the foreground with the virtual host that `writeServer(listen)` writes (the same contract
 * as startNginx); its workers run as nobody.
 */
export function startApache(writeServer: (listen: string) => Promise<string>): Promise<TestNginx> {
  return startServer('apache', writeServer);
}

function caddyConfig(dir: string, siteFile: string): string {
  return ['{', '    admin off', '    auto_https off', `    storage file_system ${JSON.stringify(join(dir, 'data'))}`, '}', `import ${JSON.stringify(siteFile)}`, ''].join('\n');
}

async function startServer(kind: 'nginx' | 'caddy' | 'apache', writeServer: (listen: string) => Promise<string>): Promise<TestNginx> {
  const dir = await mkdtemp(join(tmpdir(), `manifest-${kind}-`));
  trackDir(dir);
  for (const name of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, 'tmp', name), { recursive: true });
  const configFile = join(dir, { nginx: 'nginx.conf', caddy: 'Caddyfile', apache: 'apache.conf' }[kind]);
  let child: ChildProcess | undefined;
  let port = 0;
  const launch = async (): Promise<boolean> => {
    const serverFile = await writeServer(`127.0.0.1:${port}`);
    await writeFile(configFile, { nginx: mainConfig, caddy: caddyConfig, apache: apacheConfig }[kind](dir, serverFile));
    const log = openSync(join(dir, 'output.log'), 'a');
    try {
      child = kind === 'nginx'
        ? spawn(nginxCommand(), ['-c', configFile, '-p', dir, '-e', join(dir, 'error.log')], { stdio: ['ignore', log, log] })
        : kind === 'apache'
        ? spawn(apacheCommand(), ['-f', configFile, '-DFOREGROUND'], { stdio: ['ignore', log, log] })
        : spawn('caddy', ['run', '--config', configFile, '--adapter', 'caddyfile'], {
          stdio: ['ignore', log, log],
          env: { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
        });
    } finally {
      closeSync(log);
    }
    trackChild(child);
    child.unref();
    if (await ready(`http://127.0.0.1:${port}`, child)) return true;
    await stopChild(child);
    return false;
  };
  const logs = async (): Promise<string> => `${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}${await readFile(join(dir, 'output.log'), 'utf8').catch(() => '')}`.slice(-4000);
  let started = false;
  for (let attempt = 0; attempt <= PORT_RACE_RETRIES && !started; attempt++) {
    port = await findFreePort();
    started = await launch();
  }
  if (!started) throw new Error(`${kind} did not start; log:\n${await logs()}`);
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    async restart() {
      if (child !== undefined) await stopChild(child);
      if (!await launch()) throw new Error(`${kind} did not restart; log:\n${await logs()}`);
    },
    async stop() {
      if (child !== undefined) await stopChild(child);
      await rm(dir, { recursive: true, force: true });
      untrackDir(dir);
    },
  };
}

/**
 * Checks that a web server serving a static registry answers as a registry does: HEAD of `repository:tag` with the
 * list's media type and digest, and the registry's JSON 404 for a missing tag and (with `missingBlob`) blob.
 */
export async function assertAnswersLikeRegistry(url: string, served: { repository: string; tag: string; mediaType: string; digest: string; missingBlob?: boolean }): Promise<void> {
  const tag = await request(`${url}/v2/${served.repository}/manifests/${served.tag}`, { method: 'HEAD' });
  await tag.body.dump();
  assert.equal(tag.headers['content-type'], served.mediaType);
  assert.equal(tag.headers['docker-content-digest'], served.digest);
  const missing: [string, string][] = [[`manifests/9.9`, 'MANIFEST_UNKNOWN'], ...(served.missingBlob === true ? [[`blobs/sha256:${'0'.repeat(64)}`, 'BLOB_UNKNOWN'] as [string, string]] : [])];
  for (const [path, code] of missing) {
    const answer = await request(`${url}/v2/${served.repository}/${path}`);
    assert.equal(answer.statusCode, 404, path);
    assert.equal((await answer.body.json() as { errors: { code: string }[] }).errors[0]?.code, code, path);
  }
}
