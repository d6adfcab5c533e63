// skopeo, the independent client the integration tests check our results with, set up for one test registry.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command.js';
import type { CommandResult } from './run-command.js';

const SKOPEO_TIMEOUT_MS = 60_000;
/** Subcommands that talk to one registry (flags without prefix) or two (`--src-…` and `--dest-…`). */
const ONE_SIDED = new Set(['inspect', 'delete', 'list-tags', 'layers']);
const TWO_SIDED = new Set(['copy', 'sync']);

export interface SkopeoAccess {
  /** false for the plain-HTTP registry: skopeo then falls back from https to http for it. */
  isTlsVerified: boolean;
  /** Dir holding ca.crt for the registry (and token server); omitted for plain HTTP. */
  certDir?: string;
  /** `user:password`; omitted when the registry has no auth. */
  credentials?: string;
}

export interface SkopeoEnvironment {
  /** Private HOME, auth file and policy for skopeo so the host's docker/podman config never leaks in. */
  env: NodeJS.ProcessEnv;
  policyFile: string;
}

function hasFlag(args: readonly string[], names: readonly string[]): boolean {
  return args.some((arg) => names.some((name) => arg === name || arg.startsWith(`${name}=`)));
}

/** Adds this registry's TLS, cert-dir and credential flags for one side (prefix '', 'src-' or 'dest-'). */
function sideFlags(prefix: string, args: readonly string[], access: SkopeoAccess): string[] {
  const flags: string[] = [];
  if (!hasFlag(args, [`--${prefix}tls-verify`])) flags.push(`--${prefix}tls-verify=${String(access.isTlsVerified)}`);
  if (access.certDir !== undefined && !hasFlag(args, [`--${prefix}cert-dir`])) {
    flags.push(`--${prefix}cert-dir`, access.certDir);
  }
  // A caller asking for other credentials (or --no-creds, for anonymous tests) wins: skopeo refuses both at once.
  const credentialFlags = ['creds', 'no-creds', 'username', 'password', 'registry-token'].map((f) => `--${prefix}${f}`);
  if (access.credentials !== undefined && !hasFlag(args, credentialFlags)) {
    flags.push(`--${prefix}creds`, access.credentials);
  }
  return flags;
}

/** Builds skopeo's argv: global policy flag, subcommand, this registry's flags, then the caller's args (which win). */
export function skopeoArguments(
  subcommand: string,
  args: readonly string[],
  access: SkopeoAccess,
  policyFile: string,
): string[] {
  let flags: string[] = [];
  if (ONE_SIDED.has(subcommand)) flags = sideFlags('', args, access);
  if (TWO_SIDED.has(subcommand)) flags = [...sideFlags('src-', args, access), ...sideFlags('dest-', args, access)];
  return ['--policy', policyFile, subcommand, ...flags, ...args];
}

/** Creates skopeo's private config under dir: an empty auth file, an accept-anything policy, its own HOME. */
export async function prepareSkopeoEnvironment(dir: string): Promise<SkopeoEnvironment> {
  const home = join(dir, 'skopeo-home');
  await mkdir(join(home, '.docker'), { recursive: true });
  const authFile = join(home, 'auth.json');
  const policyFile = join(home, 'policy.json');
  await writeFile(authFile, JSON.stringify({ auths: {} }));
  await writeFile(policyFile, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    DOCKER_CONFIG: join(home, '.docker'),
    REGISTRY_AUTH_FILE: authFile,
  };
  // With XDG_RUNTIME_DIR set, containers/image reads (and requires) $XDG_RUNTIME_DIR/containers/auth.json.
  delete env['XDG_RUNTIME_DIR'];
  return { env, policyFile };
}

/** Runs skopeo with a 60 s limit; a non-zero exit is returned, not thrown. */
export function runSkopeo(args: readonly string[], environment: SkopeoEnvironment): Promise<CommandResult> {
  return runCommand('skopeo', args, { timeoutMs: SKOPEO_TIMEOUT_MS, env: environment.env });
}
