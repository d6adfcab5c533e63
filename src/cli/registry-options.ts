/** Global registry options (credentials, TLS, plain HTTP) turned into a RegistryClient for one command. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ManifestError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { DOCKER_HUB_API_HOST, type Reference } from '../ref.js';
import type { RegistryClient } from '../registry/client.js';
import type { Transport } from '../registry/transport.js';
import type { CliIo } from './io.js';
import { printableLine } from './render.js';
import { packageVersion } from './version.js';

/** The global options every registry command accepts, as commander parses them. */
export interface GlobalOptions {
  debug?: boolean;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  dockerCfg?: string;
  caFile?: string;
  insecure?: boolean;
  insecureHost?: string[];
  plainHttp?: boolean;
  plainHttpHost?: string[];
  timeout?: number;
  /** False with --no-progress. */
  progress?: boolean;
  /** --color: auto (the default), always or never. */
  color?: 'auto' | 'always' | 'never';
}

/** Longest --timeout: a week, well inside what a timer can wait (24.8 days). */
const MAX_DURATION_MS = 7 * 24 * 3_600_000;

/** Parses a duration ("90s", "5m", "1h", or plain seconds) into milliseconds, for --timeout. */
export function parseDuration(value: string): number {
  const match = /^([0-9]{1,6})(ms|s|m|h)?$/.exec(value.trim());
  if (match === null) throw new InvalidArgumentError('expected a duration such as 90s, 5m or 1h (plain numbers are seconds)');
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (ms < 1) throw new InvalidArgumentError('the duration must be positive');
  if (ms > MAX_DURATION_MS) throw new InvalidArgumentError('the duration must be at most 168h (a week)');
  return ms;
}

/** Writes milliseconds as the largest whole unit parseDuration reads back ("90s", "5m", "1500ms"). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** What --insecure-host and --plain-http-host take: a host name, IPv4 or [IPv6] address, and an optional port. */
export const HOST_OPTION = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::[0-9]{1,5})?$/;

/** Docker's directory of per-registry certificates. */
const DOCKER_CERTS_DIR = '/etc/docker/certs.d';

/** Declares the global options on the program. */
export function addGlobalOptions(program: Command): Command {
  const collectHost = (value: string, previous: string[] | undefined): string[] => {
    if (!HOST_OPTION.test(value)) throw new InvalidArgumentError('expected HOST or HOST:PORT, such as 127.0.0.1:5000 (no scheme, no path)');
    return [...(previous ?? []), value];
  };
  return program
    .option('--debug', 'print each request (credentials redacted) and stack traces')
    .option('-u, --username <user>', 'user name for the registry of the command (other registries use the credential files)')
    .option('-p, --password <password>', 'password for --username (visible to other users: prefer --password-stdin)')
    .option('--password-stdin', 'read the password for --username from standard input')
    .option('--docker-cfg <path>', 'docker config directory or config.json to read credentials from (default: $DOCKER_CONFIG or ~/.docker)')
    .option('--ca-file <file>', 'PEM file of CA certificates to trust, besides the system ones and /etc/docker/certs.d')
    .option('--insecure', 'do not verify the TLS certificates of the registries this command names (nor of the token realms they name)')
    .option('--insecure-host <host[:port]>', 'do not verify the TLS certificate of this registry, nor of its token realm (repeatable; without a port, any port of the host)', collectHost)
    .option('--plain-http', 'speak plain HTTP to the registries this command names')
    .option('--plain-http-host <host[:port]>', 'speak plain HTTP to this registry (repeatable; without a port, any port of the host)', collectHost)
    .option('--timeout <duration>', 'give up after this long, retries included (such as 90s, 5m; default: no limit)', parseDuration)
    .option('--no-progress', 'never draw progress on stderr (drawn only when stderr is a terminal, and not under CI=true)')
    .addOption(new Option('--color <when>', 'colour the output: auto (on a terminal, unless NO_COLOR is set), always or never').choices(['auto', 'always', 'never']).default('auto'));
}

/** Returns the literal secrets of a run (for redaction): the password given on the command line, if any. */
export function secretsOf(options: GlobalOptions): string[] {
  return options.password === undefined ? [] : [options.password];
}

/** Creates the logger of a run: warnings always, debug lines with --debug, everything redacted. */
export function loggerFor(options: GlobalOptions, io: CliIo, secrets: readonly string[]): Logger {
  return createLogger((text) => io.stderr(`manifest: ${printableLine(text)}\n`), { debug: options.debug === true, secrets });
}

/**
 * Returns the password of --password or --password-stdin (reading standard input once; recorded in `secrets` for
 * redaction), checking that it comes with --username; undefined when neither is given.
 */
export async function passwordOf(options: GlobalOptions, io: CliIo, logger: Logger, secrets: string[]): Promise<string | undefined> {
  let password = options.password;
  if (options.passwordStdin === true) {
    if (password !== undefined) throw new ManifestError('USAGE', '--password and --password-stdin cannot be used together');
    password = (await io.readStdin()).replace(/\r?\n$/, '');
    if (password === '') throw new ManifestError('USAGE', '--password-stdin read an empty password');
    secrets.push(password);
  }
  if (password !== undefined && options.username === undefined) {
    const looksLikePlatform = /^[a-z0-9]+\/[a-z0-9]+/.test(password);
    throw new ManifestError('USAGE', `a password was given without --username${looksLikePlatform ? ' (-p is --password; the platform option is --platform)' : ''}`);
  }
  if (options.username !== undefined && password === undefined) throw new ManifestError('USAGE', '--username needs --password-stdin (or --password)');
  if (options.password !== undefined) logger.warn('--password on the command line is visible to other users of this machine; use --password-stdin');
  return password;
}

/** Builds the transport of a command: --plain-http and --insecure apply to `commandHosts`, the -host forms to theirs. */
export async function transportFor(options: GlobalOptions, commandHosts: readonly string[], io: CliIo, logger: Logger): Promise<Transport> {
  const [{ Transport }, { setFlagsFromString }] = await Promise.all([import('../registry/transport.js'), import('node:v8')]);
  // undici parses HTTP with llhttp, a WebAssembly module V8 compiles at the first connection, first with its
  // baseline compiler (Liftoff), then again with the optimising one (TurboFan) in the background; process exit
  // waits for that second compilation, which took ~200 ms after the last line of every networked command.
  // Liftoff code parses our few headers as fast, and bodies are streamed, not parsed. Set before the first
  // connection: here, where every command that talks to a registry builds its transport (and loads node:v8, ~3 ms
  // that --help and the local commands do without).
  setFlagsFromString('--liftoff-only');
  return new Transport({
    // Docker Hub speaks HTTPS only: --plain-http meant for a local registry must not send a spec's `alpine` (or a
    // mistyped `127.0.0.1:5000`, which names Docker Hub's library) to registry-1.docker.io in clear. Naming it in
    // --plain-http-host still does.
    plainHttpHosts: [...(options.plainHttp === true ? commandHosts.filter((host) => host.toLowerCase().replace(/:443$/, '') !== DOCKER_HUB_API_HOST) : []), ...(options.plainHttpHost ?? [])],
    insecureHosts: [...(options.insecure === true ? commandHosts : []), ...(options.insecureHost ?? [])],
    certsDir: io.env.MANIFEST_CERTS_DIR ?? DOCKER_CERTS_DIR,
    ...(options.caFile === undefined ? {} : { caFile: options.caFile }),
    env: io.env,
    userAgent: `manifest/${packageVersion()}`,
    logger,
  });
}

/**
 * Builds the client of a command: `target` is the registry --username/--password apply to (the credential files
 * serve every registry); --plain-http applies to the hosts of `target` and `others` only, --insecure to them and
 * the token realms their challenges name, never to redirect targets. Loads the registry modules lazily so --help
 * stays light.
 */
export async function clientFor(
  options: GlobalOptions,
  target: Reference,
  others: readonly Reference[],
  io: CliIo,
  logger: Logger,
  secrets: string[],
  signal?: AbortSignal,
): Promise<RegistryClient> {
  const [{ RegistryClient }, { checkAuthFile, dockerConfigFile, loadDefaultCredentials }] = await Promise.all([
    import('../registry/client.js'),
    import('../registry/credentials.js'),
  ]);
  const registry = target.registry;
  const commandHosts = [...new Set([target, ...others].map((ref) => ref.apiHost))];
  const password = await passwordOf(options, io, logger, secrets);
  if (options.dockerCfg !== undefined) await checkAuthFile(dockerConfigFile(options.dockerCfg));
  const credentials = loadDefaultCredentials({
    ...(signal === undefined ? {} : { signal }),
    env: io.env,
    ...(io.homeDir === '' ? {} : { homeDir: io.homeDir }),
    ...(options.dockerCfg === undefined ? {} : { dockerConfig: options.dockerCfg }),
    ...(options.username === undefined || password === undefined ? {} : {
      explicit: { registry, username: options.username, password, source: options.passwordStdin === true ? '--username and --password-stdin' : '--username and --password' },
    }),
  });
  const transport = await transportFor(options, commandHosts, io, logger);
  return new RegistryClient({ transport, credentials, logger });
}
