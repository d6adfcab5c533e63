/**
 * `manifest static …`: a static registry's web server configuration and housekeeping. Pushing to one is the push
 * commands' job (`--target dir:ROOT//NAME:TAG`); everything here loads its modules inside the action.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { clipInput, ManifestError } from '../../errors.js';
import type { StaticLocation } from '../../store/static-location.js';
import type { CommandContext } from '../command-context.js';
import { rewriteServeConfigs } from '../rewrite-serve-configs.js';
import { usageOutput } from '../usage-output.js';

interface ServeConfigFlags {
  nginx?: boolean;
  apache?: boolean;
  caddy?: boolean;
  listen?: string;
  write?: boolean;
}

interface GcFlags {
  keep?: number;
  dryRun?: boolean;
}

function wholeNumber(value: string): number {
  if (!/^[0-9]{1,6}$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  // --keep 0 would empty every repository at once: removing every tag is static rm's job, one tag at a time.
  if (Number(value) === 0) throw new InvalidArgumentError('expected at least 1 (to remove tags, use static rm)');
  return Number(value);
}

/**
 * Parses a static store named on the command line: dir:ROOT or s3://…, or a directory path with `dir:` left out
 * (every static command takes only stores, so a bare path cannot mean a registry).
 */
async function parseStore(text: string): Promise<{ location: StaticLocation; repository?: string; tag?: string }> {
  const { isStaticTargetText, parseStaticTarget } = await import('../../store/static-location.js');
  if (isStaticTargetText(text)) return parseStaticTarget(text);
  // A registry reference (r.example:5000/tools), S3:// or s3:/ is not a directory to create: such text needs dir:.
  if (text.includes(':')) {
    throw new ManifestError('USAGE', `"${clipInput(text, 120)}" is not a static store: write dir:PATH for a directory (a path holding ":" included) or s3://BUCKET[/PREFIX]?…`);
  }
  return parseStaticTarget(`dir:${text}`);
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Declares `static serve-config`, `static ls`, `static rm` and `static gc`. */
export function addStaticCommands(program: Command, context: CommandContext): void {
  const group = program
    .command('static')
    .configureOutput(usageOutput(context.io, 'manifest static'))
    .description('serve and tidy a static registry: a directory or S3 bucket that any web server serves for pulls')
    .addHelpText('after', `
A static registry is written by pushing to dir:ROOT//NAME:TAG or s3://BUCKET[/PREFIX]//NAME:TAG?… (pushml,
push from-args, push archives); these commands serve, list and tidy it.

Examples:
  manifest pushml app.yaml                  # with image: dir:/srv/www//team/app:1
  manifest static serve-config /srv/www --nginx --listen 8080 > /etc/nginx/conf.d/registry.conf
  manifest static ls dir:/srv/www`);

  group.command('serve-config')
    .configureOutput(usageOutput(context.io, 'manifest static serve-config'))
    .description('print the web server configuration that gives a static registry\'s files the headers pulls need')
    .argument('<root>', 'the tree\'s root: a directory (dir: optional), or s3://BUCKET[/PREFIX]?… for nginx proxying to the bucket')
    .option('--nginx', 'an nginx server { } block, to include inside http { }')
    .option('--apache', 'an Apache httpd virtual host (needs mod_headers)')
    .option('--caddy', 'a Caddyfile site block')
    .option('--listen <addr:port>', 'address the server listens on, such as 127.0.0.1:8080 or 80')
    .option('--write', 'write it to ROOT/.manifest/ (nginx.conf, apache.conf, Caddyfile) instead of printing it; later pushes to ROOT regenerate it')
    .addHelpText('after', `
Each manifest gets its media type as Content-Type and its Docker-Content-Digest, each blob its digest,
/v2/ the Docker-Distribution-API-Version header, and missing files the registry's JSON 404 errors.
The configuration names every manifest present: regenerate it after each push (or use --write once;
pushes then rewrite it) and reload the server.

Examples:
  manifest static serve-config /srv/www --nginx --listen 8080 > /etc/nginx/conf.d/registry.conf
  manifest static serve-config /srv/www --caddy --write`)
    .action(async (rootText: string, flags: ServeConfigFlags, command: Command) => {
      await context.run(command, async ({ io, signal }) => {
        const servers = (['nginx', 'apache', 'caddy'] as const).filter((s) => flags[s] === true);
        const [server] = servers;
        if (server === undefined || servers.length > 1) throw new ManifestError('USAGE', 'give exactly one of --nginx, --apache, --caddy');
        const parsed = await parseStore(rootText);
        if (parsed.repository !== undefined) throw new ManifestError('USAGE', `give the store's root, without "//${parsed.repository}": one configuration serves every repository`);
        const { writeServeConfig, serveConfigText } = await import('../../manifest/serve-config.js');
        const options = { server, location: parsed.location, ...(flags.listen === undefined ? {} : { listen: flags.listen }), signal };
        if (flags.write === true) io.stdout(`${await writeServeConfig(options)}\n`);
        else io.stdout(await serveConfigText(options));
      });
    });

  group.command('push')
    .configureOutput(usageOutput(context.io, 'manifest static push'))
    .description('publish static binaries laid out os/arch[/variant]/FILE under PREFIX/NAME/VERSION/, with the documents download pages read')
    .requiredOption('-t, --tag <name:version>', 'name and version, such as albatros:0.9')
    .option('--prefix <path>', 'key prefix under the store\'s root', 'df-dist-v1')
    .argument('<dir>', 'local directory laid out os/arch[/variant]/FILE, such as df/linux/amd64/albatros')
    .argument('<target>', 'the store\'s root: dir:ROOT (dir: optional) or s3://BUCKET[/PREFIX]?endpoint=…&region=…&forcePathStyle=true')
    .addHelpText('after', `
Writes PREFIX/NAME/VERSION/os/arch[/variant]/FILE, then PREFIX/NAME/VERSION (the platforms and their files)
and PREFIX/NAME (the versions), as JSON; in a dir: store those two are index.json files of the folders.

Examples:
  manifest static push -t albatros:0.9 df/ dir:/srv/download
  manifest static push -t albatros:0.9 df/ 's3://download.example?endpoint=garage.example&region=garage&forcePathStyle=true'`)
    .action(async (dir: string, text: string, flags: { tag: string; prefix: string }, command: Command) => {
      await context.run(command, async ({ io, signal }) => {
        const parsed = await parseStore(text);
        if (parsed.repository !== undefined) throw new ManifestError('USAGE', `give the store's root without "//${parsed.repository}": the name comes from --tag`);
        const colon = flags.tag.indexOf(':');
        if (colon <= 0 || colon === flags.tag.length - 1) throw new ManifestError('USAGE', `--tag "${clipInput(flags.tag, 80)}": expected NAME:VERSION, such as albatros:0.9`);
        const [{ openStaticBackend }, { pushStaticBinaries }] = await Promise.all([import('../../store/open-static-store.js'), import('../../manifest/static-binaries.js')]);
        await pushStaticBinaries(await openStaticBackend(parsed.location), {
          name: flags.tag.slice(0, colon),
          version: flags.tag.slice(colon + 1),
          dir,
          prefix: flags.prefix,
          documentsAsIndexFiles: parsed.location.kind === 'dir',
          signal,
          onWrite: (from, key) => io.stdout(`${from} -> ${key}\n`),
        });
      });
    });

  group.command('ls')
    .configureOutput(usageOutput(context.io, 'manifest static ls'))
    .description('list the repositories and tags of a static registry, one NAME:TAG a line')
    .argument('<target>', 'dir:ROOT (dir: optional) or s3://BUCKET[/PREFIX]?… (with //NAME: that repository only)')
    .addHelpText('after', `
Examples:
  manifest static ls dir:/srv/www
  manifest static ls 's3://registry/mirror//team/app?endpoint=https://s3.example&region=eu-1'`)
    .action(async (text: string, _flags: unknown, command: Command) => {
      await context.run(command, async ({ io, signal }) => {
        const parsed = await parseStore(text);
        const [{ openStaticBackend }, { listStaticRepositories }, { checkIsStore }] = await Promise.all([
          import('../../store/open-static-store.js'), import('../../manifest/static-housekeeping.js'), import('../../store/static-store.js'),
        ]);
        const backend = await openStaticBackend(parsed.location);
        await checkIsStore(backend, { signal });
        const repositories = (await listStaticRepositories(backend, { signal }))
          .filter((r) => parsed.repository === undefined || r.name === parsed.repository);
        if (parsed.repository !== undefined && repositories.length === 0) throw new ManifestError('NOT_FOUND', `repository ${parsed.repository} not found in ${text}`);
        io.stdout(repositories.flatMap((r) => r.tags.map((t) => `${r.name}:${t}\n`)).join(''));
      });
    });

  group.command('rm')
    .configureOutput(usageOutput(context.io, 'manifest static rm'))
    .description('remove a tag from a static registry (its manifests and blobs stay until static gc)')
    .argument('<target>', 'dir:ROOT//NAME:TAG (dir: optional) or s3://BUCKET[/PREFIX]//NAME:TAG?…')
    .addHelpText('after', `
A web server configuration that static serve-config --write left in a dir: store is rewritten
(reload the server).

Examples:
  manifest static rm dir:/srv/www//team/app:1.0-rc1 && manifest static gc dir:/srv/www//team/app`)
    .action(async (text: string, _flags: unknown, command: Command) => {
      await context.run(command, async ({ io, signal, logger }) => {
        const parsed = await parseStore(text);
        if (parsed.repository === undefined || parsed.tag === undefined) throw new ManifestError('USAGE', 'name the tag to remove: ROOT//NAME:TAG');
        const [{ openStaticBackend }, { removeStaticTag }] = await Promise.all([import('../../store/open-static-store.js'), import('../../manifest/static-housekeeping.js')]);
        await removeStaticTag(await openStaticBackend(parsed.location), parsed.repository, parsed.tag, { signal });
        io.stdout(`removed ${parsed.repository}:${parsed.tag}\n`);
        await rewriteServeConfigs([parsed.location], { signal, logger });
      });
    });

  group.command('gc')
    .configureOutput(usageOutput(context.io, 'manifest static gc'))
    .description('remove the manifests and blobs no tag reaches (with --keep, the older tags first)')
    .argument('<target>', 'dir:ROOT (dir: optional) or s3://BUCKET[/PREFIX]?… (every repository), or ROOT//NAME (one)')
    .option('--keep <n>', 'keep only the N (at least 1) most recently pushed tags of each repository', wholeNumber)
    .option('--dry-run', 'print what would be removed; remove nothing')
    .addHelpText('after', `
Prints each removed file with its size, then the total. Do not run it while a push to the same
repository is under way: that push's blobs have no tag yet. A web server configuration that
static serve-config --write left in a dir: store is rewritten (reload the server).

Examples:
  manifest static gc --dry-run dir:/srv/www
  manifest static gc --keep 10 dir:/srv/www//team/app`)
    .action(async (text: string, flags: GcFlags, command: Command) => {
      await context.run(command, async ({ io, signal, logger }) => {
        const parsed = await parseStore(text);
        if (parsed.tag !== undefined) throw new ManifestError('USAGE', `gc takes a repository, not a tag (use static rm for ${parsed.repository ?? ''}:${parsed.tag})`);
        const [{ openStaticBackend }, { listStaticRepositories, collectStaticGarbage }, { checkIsStore }] = await Promise.all([
          import('../../store/open-static-store.js'), import('../../manifest/static-housekeeping.js'), import('../../store/static-store.js'),
        ]);
        const backend = await openStaticBackend(parsed.location);
        // A mistyped root must not pass as "freed 0 bytes" in a cron job.
        await checkIsStore(backend, { signal });
        const names = parsed.repository !== undefined ? [parsed.repository] : (await listStaticRepositories(backend, { signal })).map((r) => r.name);
        let files = 0;
        let bytes = 0;
        const verb = flags.dryRun === true ? 'would remove' : 'removed';
        for (const name of names) {
          const result = await collectStaticGarbage(backend, name, { signal, ...(flags.keep === undefined ? {} : { keep: flags.keep }), ...(flags.dryRun === true ? { dryRun: true } : {}) });
          for (const o of result.removed) io.stdout(`${verb} ${o.key} ${o.size}\n`);
          files += result.removed.length;
          bytes += result.freedBytes;
        }
        io.stdout(`${flags.dryRun === true ? 'would free' : 'freed'} ${bytes} bytes (${formatBytes(bytes)}) in ${files} file${files === 1 ? '' : 's'}\n`);
        // gc removes manifests no tag reaches; the configuration still listed them.
        if (flags.dryRun !== true && files > 0) await rewriteServeConfigs([parsed.location], { signal, logger });
      });
    });
}
