/**
 * `manifest login REGISTRY` and `manifest logout REGISTRY`: docker's login, without docker. The credentials are
 * checked against the registry first (refused: exit 3, nothing written), then kept where docker keeps them: the
 * configured credential helper, else docker's config.json.
 */
import type { Command } from 'commander';
import { clipInput, ManifestError } from '../../errors.js';
import { DOCKER_HUB_API_HOST, DOCKER_HUB_REGISTRY } from '../../ref.js';
import type { ActionContext, CommandContext } from '../command-context.js';
import { HOST_OPTION, passwordOf, transportFor } from '../registry-options.js';
import { usageOutput } from '../usage-output.js';

/** Names docker accepts for Docker Hub in login and logout. */
const DOCKER_HUB_NAMES: ReadonlySet<string> = new Set([DOCKER_HUB_REGISTRY, 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Reads the REGISTRY argument as docker does: a host[:port], a scheme and path dropped; Docker Hub under any name. */
export function parseRegistryArgument(text: string | undefined): { registry: string; apiHost: string } {
  if (text === undefined || text === '') return { registry: DOCKER_HUB_REGISTRY, apiHost: DOCKER_HUB_API_HOST };
  const host = text.replace(/^https?:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  if (!HOST_OPTION.test(host)) {
    throw new ManifestError('USAGE', `invalid registry "${clipInput(text, 120)}": expected a host or host:port, such as r.example or 127.0.0.1:5000`);
  }
  if (DOCKER_HUB_NAMES.has(host)) return { registry: DOCKER_HUB_REGISTRY, apiHost: DOCKER_HUB_API_HOST };
  return { registry: host, apiHost: host };
}

function configLocation(action: ActionContext): { env: ActionContext['io']['env']; homeDir: string; dockerConfig?: string } {
  return { env: action.io.env, homeDir: action.io.homeDir, ...(action.options.dockerCfg === undefined ? {} : { dockerConfig: action.options.dockerCfg }) };
}

/** Declares login and logout. */
export function addLoginCommands(program: Command, context: CommandContext): void {
  program
    .command('login')
    .configureOutput(usageOutput(context.io, 'manifest login'))
    .description('check credentials against a registry and keep them where docker keeps them')
    .argument('[registry]', 'registry host[:port] (default: docker.io)')
    .addHelpText('after', `
The user is --username, the password read with --password-stdin (or --password, which other users can see).
The registry must accept them (exit 3 when it refuses, and nothing is written). They are kept as docker
login keeps them: by the credential helper docker's config.json names for the registry (credHelpers) or for all
(credsStore), else in config.json itself ($DOCKER_CONFIG, or ~/.docker; --docker-cfg names another).
Every command, and docker, podman, skopeo and crane, then find them there.

Examples:
  echo "$TOKEN" | manifest login --username ci --password-stdin r.example
  manifest login -u me --password-stdin --ca-file ca.pem 127.0.0.1:5000 < password.txt`)
    .action(async (registryText: string | undefined, _flags: unknown, command: Command) => {
      await context.run(command, async (action) => {
        const { registry, apiHost } = parseRegistryArgument(registryText);
        const { options, io, logger, signal } = action;
        if (options.username === undefined) throw new ManifestError('USAGE', 'login needs --username, and the password on standard input with --password-stdin');
        const password = await passwordOf(options, io, logger, action.secrets);
        if (password === undefined) throw new ManifestError('USAGE', 'login needs the password: pass --password-stdin');
        const [{ RegistryClient }, { StaticCredentials }, { saveCredential }] = await Promise.all([
          import('../../registry/client.js'), import('../../registry/credentials.js'), import('../../registry/save-credential.js'),
        ]);
        const client = new RegistryClient({
          transport: await transportFor(options, [apiHost], io, logger),
          credentials: new StaticCredentials(registry, { username: options.username, password, source: '--username' }),
          logger,
        });
        try {
          await client.checkCredentials(registry, apiHost, { signal });
        } finally {
          await client.close();
        }
        const saved = await saveCredential({ ...configLocation(action), registry, username: options.username, password });
        // Where they went, on stderr; a warning only where docker warns too: base64 in config.json, not encrypted.
        if (saved.helper === undefined) logger.warn(`credentials for ${registry} kept unencrypted in ${saved.configFile} (a credential helper, credsStore in that file, would keep them encrypted)`);
        else io.stderr(`credentials for ${registry} kept by ${saved.helper}\n`);
        io.stdout('Login Succeeded\n');
      });
    });

  program
    .command('logout')
    .configureOutput(usageOutput(context.io, 'manifest logout'))
    .description('remove the credentials kept for a registry')
    .argument('[registry]', 'registry host[:port] (default: docker.io)')
    .addHelpText('after', `
Removes only that registry's entry of docker's config.json, and erases it from the credential helper when
one is configured. Not being logged in is not an error.

Examples:
  manifest logout r.example
  manifest logout --docker-cfg ./ci-docker 127.0.0.1:5000`)
    .action(async (registryText: string | undefined, _flags: unknown, command: Command) => {
      await context.run(command, async (action) => {
        const { registry } = parseRegistryArgument(registryText);
        const { removeCredential } = await import('../../registry/save-credential.js');
        if (await removeCredential({ ...configLocation(action), registry })) action.io.stdout(`Removed the credentials for ${registry}\n`);
        else action.logger.warn(`not logged in to ${registry}`);
      });
    });
}
