/**
 * `manifest push archives --target REF FILE|DIR…`: per-platform docker archives, OCI layouts and OCI archives
 * pushed as one multi-platform tag; and `manifest export REF --oci-layout DIR | --oci-archive FILE`: an image or
 * list written as an OCI layout or archive. Heavy modules are loaded inside the actions.
 */
import { Option, type Command } from 'commander';
import { ManifestError } from '../../errors.js';
import type { Platform } from '../../platform.js';
import type { CommandContext } from '../command-context.js';
import { printableLine } from '../render.js';
import { usageOutput } from '../usage-output.js';
import { addPushOptions, annotationsOf, collect, commaList, openArchiveSession, positiveInteger, pushSpecs, type PushFlags } from './push.js';

interface ArchivesFlags extends PushFlags {
  target: string;
  tags?: string[];
  annotations?: string[];
}

interface ExportFlags {
  ociLayout?: string;
  ociArchive?: string;
  platform?: string[];
  name?: string;
  json?: boolean;
  quiet?: boolean;
  concurrency: number;
}

/** Declares `push archives` (under the existing `push` command) and `export`. */
export function addArchiveCommands(program: Command, context: CommandContext): void {
  const push = program.commands.find((c) => c.name() === 'push');
  if (push === undefined) throw new Error('the push command is declared before push archives');

  addPushOptions(push.command('archives')
    .configureOutput(usageOutput(context.io, 'manifest push archives'))
    .description('push per-platform docker archives, OCI layouts and OCI archives as one multi-platform tag')
    .argument('<source...>', 'archive files, OCI layout directories, directories of archives, or docker-archive:FILE, oci:DIR[:tag], oci-archive:FILE[:tag]')
    .requiredOption('--target <ref>', 'where the list goes, such as r.example/app:1.0')
    .option('--tags <list>', 'further tags for the list, comma-separated', commaList)
    .option('--annotations <key=value>', 'annotation of the list (repeatable; makes an OCI index)', collect))
    .addHelpText('after', `
Each archive's platform is read from its image config. A file named os.arch[.variant].tar[.gz]
(linux.amd64.tar.gz, linux.arm.v7.tar) must hold an image for that platform. A directory that is not an
OCI layout stands for every *.tar, *.tar.gz and *.tgz file and layout directory in it, in name order.
Uncompressed layers are gzip-compressed (deterministically: the same archive gives the same digests) in a
temporary directory that is removed afterwards. Prints "Digest: sha256:… SIZE" on stdout.

Examples:
  manifest push archives --target r.example/app:1.0 docker/
  manifest push archives --target r.example/app:1.0 --tags latest linux.amd64.tar.gz linux.arm64.tar.gz
  manifest push archives --target r.example/app:1.0 oci:build/layout:1.0`)
    .action(async (sources: string[], flags: ArchivesFlags, command: Command) => {
      await context.run(command, async (action) => {
        const { specFromArchives } = await import('../../spec/from-archives.js');
        const annotations = annotationsOf(flags.annotations);
        const spec = await specFromArchives({
          sources,
          target: flags.target,
          ...(flags.tags === undefined ? {} : { tags: flags.tags }),
          ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
        });
        await pushSpecs([spec], flags, action);
      });
    });

  program.command('export')
    .configureOutput(usageOutput(context.io, 'manifest export'))
    .description('write an image or multi-platform list from a registry as an OCI layout directory or OCI archive')
    .argument('<ref>', 'the image or list, such as r.example/app:1.0')
    .option('--oci-layout <dir>', 'write an OCI image layout in this directory (created, or added to)')
    .option('--oci-archive <file>', 'write an OCI archive (a tar of the layout) to this file (replaced)')
    .option('--platform <os/arch[/variant]>', 'keep only this platform (repeatable, or comma-separated); default: all', commaList)
    .option('--name <name>', 'name of the image in index.json (org.opencontainers.image.ref.name); default: the tag of REF')
    .option('-q, --quiet', 'print only the digest')
    .option('--json', 'print a JSON document describing the export')
    .addOption(new Option('--concurrency <n>', 'most blobs copied at once').argParser(positiveInteger).default(16))
    .addHelpText('after', `
Every blob is verified as it arrives; a blob that fails verification is not kept. The result is read by
"skopeo copy oci:DIR:NAME …" and pushed back unchanged by "manifest push archives --target REF DIR".
Prints "Digest: sha256:… SIZE" (the exported list's or image's) on stdout.

Examples:
  manifest export r.example/app:1.0 --oci-layout build/app
  manifest export r.example/app:1.0 --oci-archive app.tar --platform linux/amd64,linux/arm64`)
    .action(async (refText: string, flags: ExportFlags, command: Command) => {
      await context.run(command, async (action) => {
        if ((flags.ociLayout === undefined) === (flags.ociArchive === undefined)) {
          throw new ManifestError('USAGE', 'give one of --oci-layout DIR and --oci-archive FILE');
        }
        if (flags.quiet === true && flags.json === true) throw new ManifestError('USAGE', '--quiet and --json cannot be used together');
        const [{ parseReference }, { parsePlatform }, { checkTag }] = await Promise.all([
          import('../../ref.js'), import('../../platform.js'), import('../../spec/parse-target.js'),
        ]);
        const ref = parseReference(refText);
        const platforms: Platform[] = (flags.platform ?? []).map((p) => parsePlatform(p));
        if (flags.name !== undefined) checkTag(flags.name);
        const client = await action.client(ref);
        const [{ exportImage }, { OciLayoutTarget }, { packLayout }] = await Promise.all([
          import('../../manifest/export.js'), import('../../archive/oci-layout.js'), import('../../archive/pack-layout.js'),
        ]);
        const session = flags.ociArchive === undefined ? undefined : await openArchiveSession(flags.concurrency);
        try {
          let dir = flags.ociLayout;
          if (session !== undefined) {
            dir = await session.workspace.file('-layout');
            await (await import('node:fs/promises')).mkdir(dir);
          }
          const target = await OciLayoutTarget.create(dir as string, flags.ociLayout ?? flags.ociArchive);
          const result = await exportImage(ref, {
            client,
            target,
            platforms,
            concurrency: flags.concurrency,
            signal: action.signal,
            logger: action.logger,
            ...(flags.name === undefined ? {} : { name: flags.name }),
          });
          if (flags.ociArchive !== undefined) await packLayout(dir as string, flags.ociArchive, action.signal);
          const { io } = action;
          if (flags.json === true) {
            io.stdout(`${JSON.stringify({ ...result, output: flags.ociLayout ?? flags.ociArchive, format: flags.ociLayout === undefined ? 'oci-archive' : 'oci-layout' }, null, 2)}\n`);
          } else if (flags.quiet === true) {
            io.stdout(`${result.digest}\n`);
          } else {
            io.stdout(`Digest: ${result.digest} ${result.size}\n`);
            action.logger.debug(printableLine(`${result.blobs.copied} blob(s) written, ${result.blobs.present} already there`));
          }
        } finally {
          await session?.close();
        }
      });
    });
}
