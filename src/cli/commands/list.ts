/** `manifest tags REPO` and `manifest catalog HOST`: names one a line, every page of the listing followed. */
import { InvalidArgumentError, type Command } from 'commander';
import { clipInput, ManifestError, withContext } from '../../errors.js';
import { bareRegistryHost, DOCKER_HUB_REGISTRY, parseReference, type Reference } from '../../ref.js';
import type { CommandContext } from '../command-context.js';
import { printableLine } from '../render.js';
import { usageOutput } from '../usage-output.js';

/** Registries known to serve no catalog at all: asking would only give a confusing refusal. */
const WITHOUT_CATALOG: ReadonlyMap<string, string> = new Map([[DOCKER_HUB_REGISTRY, 'Docker Hub'], ['ghcr.io', 'GHCR']]);

interface ListFlags {
  pageSize?: number;
  last?: string;
  json?: boolean;
}

function pageSize(value: string): number {
  const n = Number(value);
  if (!/^[0-9]{1,5}$/.test(value) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a whole number from 1 to 10000');
  return n;
}

function lastName(value: string): string {
  if (value === '' || value.length > 1024 || /\s/.test(value)) throw new InvalidArgumentError('expected a tag or repository name');
  return value;
}

function addListOptions(command: Command): Command {
  return command
    .option('-n, --page-size <n>', 'names asked for per page (the registry may send fewer; every page is read)', pageSize)
    .option('--last <name>', 'list only the names after this one', lastName)
    .option('--json', 'print one JSON document instead of one name a line');
}

/**
 * Parses the HOST of `manifest catalog`: a registry host as references name it ("r.example", "127.0.0.1:5000",
 * "localhost:5000", "docker.io"), returned as a reference into it (for the client's host options).
 */
function parseHost(input: string): Reference {
  const fail = (): never => {
    throw new ManifestError('USAGE', `"${clipInput(input, 120)}" is not a registry host; write it as in a reference, such as r.example, localhost:5000 or 127.0.0.1:5000 (no scheme, no path)`);
  };
  if (input.includes('/') || input.includes('@')) fail();
  let ref: Reference;
  try {
    ref = parseReference(`${input}/catalog`);
  } catch {
    return fail();
  }
  const registry = input === 'index.docker.io' ? DOCKER_HUB_REGISTRY : input;
  if (ref.registry !== registry) fail();
  return ref;
}

/** Declares the tags and catalog commands. */
export function addListCommands(program: Command, context: CommandContext): void {
  addListOptions(program
    .command('tags')
    .configureOutput(usageOutput(context.io, 'manifest tags'))
    .description('list the tags of a repository, one a line')
    .argument('<repo>', 'repository, such as r.example/app (a tag or digest given is ignored)'))
    .addHelpText('after', `
Every page is followed (GHCR, for one, sends 100 tags a page). Tags come in the registry's order.

Examples:
  manifest tags r.example/app
  manifest tags --page-size 50 --last v1.9 r.example/app
  manifest tags --json ghcr.io/owner/app | jq -r '.tags[]'`)
    .action(async (repoText: string, flags: ListFlags, command: Command) => {
      await context.run(command, async ({ io, client, signal, logger }) => {
        const repo = parseReference(repoText);
        // A registry host without its repository: refused when it can only be a host (tags ignores a tag anyway).
        const bare = bareRegistryHost(repoText, repo);
        if (bare !== undefined) {
          const advice = `for a registry at ${repoText}, write ${repoText}/REPOSITORY`;
          if (bare.certain) throw new ManifestError('USAGE', `"${clipInput(repoText, 120)}" names the Docker Hub repository ${repo.repository}; ${advice}`);
          logger.warn(`"${repoText}" names the Docker Hub repository ${repo.repository}; ${advice}`);
        }
        const tags = await (await client(repo)).listTags(repo, { signal, ...listOptions(flags) });
        io.stdout(flags.json === true ? `${JSON.stringify({ name: repo.name, tags }, null, 2)}\n` : lines(tags));
      });
    });

  addListOptions(program
    .command('catalog')
    .configureOutput(usageOutput(context.io, 'manifest catalog'))
    .description('list the repositories of a registry, one a line (where the registry offers its catalog)')
    .argument('<host>', 'registry host, such as r.example or 127.0.0.1:5000'))
    .addHelpText('after', `
The catalog (GET /v2/_catalog) is an optional part of the registry API: distribution, Harbor and Zot serve it
(to users allowed to read it); Docker Hub, GHCR and most cloud registries do not.

Examples:
  manifest catalog r.example
  manifest catalog --plain-http 127.0.0.1:5000
  manifest catalog --json r.example | jq -r '.repositories[]'`)
    .action(async (hostText: string, flags: ListFlags, command: Command) => {
      await context.run(command, async ({ io, client, signal }) => {
        const at = parseHost(hostText);
        const known = WITHOUT_CATALOG.get(at.registry);
        if (known !== undefined) throw new ManifestError('NOT_FOUND', `${known} has no catalog API; list a repository's tags with manifest tags instead`);
        let repositories: string[];
        try {
          repositories = await (await client(at)).listCatalog(at.registry, { signal, ...listOptions(flags) });
        } catch (err) {
          if (err instanceof ManifestError && err.code === 'NOT_FOUND') {
            throw new ManifestError('NOT_FOUND', `${at.registry} has no catalog (GET /v2/_catalog: not found); list a repository's tags with manifest tags instead`, { cause: err, details: err.details });
          }
          throw withContext(`listing the catalog of ${at.registry}`, err);
        }
        io.stdout(flags.json === true ? `${JSON.stringify({ registry: at.registry, repositories }, null, 2)}\n` : lines(repositories));
      });
    });
}

function listOptions(flags: ListFlags): { pageSize?: number; last?: string } {
  return {
    ...(flags.pageSize === undefined ? {} : { pageSize: flags.pageSize }),
    ...(flags.last === undefined ? {} : { last: flags.last }),
  };
}

/** One name a line; a name from a hostile registry cannot start a line of its own or move the cursor. */
function lines(names: readonly string[]): string {
  return names.map((n) => `${printableLine(n)}\n`).join('');
}
