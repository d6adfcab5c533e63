/**
 * `manifest index add TARGET SOURCE…` and `manifest index remove TARGET --platform P…`: edit a pushed list in
 * place, with the push's contract and output (the Digest line, --json, --digest-file, --dry-run).
 */
import type { Command } from 'commander';
import { ManifestError } from '../../errors.js';
import { parsePlatform, type Platform } from '../../platform.js';
import { parseReference } from '../../ref.js';
import type { PushSpec } from '../../spec/types.js';
import type { CommandContext } from '../command-context.js';
import { usageOutput } from '../usage-output.js';
import { addPushOptions, explicitType, pushSpecs, type PushFlags } from './push.js';

interface RemoveFlags extends PushFlags {
  platform: string[];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const KEEPS = `
The list keeps its type (a Docker manifest list stays one unless --type is given), its annotations and every
other entry's digest, size, platform and annotations. The new list is pushed by digest first; the tag moves
only after, and is read back: a failure before that leaves the tag as it was.`;

/** Declares `index add` and `index remove`. */
export function addIndexCommands(program: Command, context: CommandContext): void {
  const index = program
    .command('index')
    .configureOutput(usageOutput(context.io, 'manifest index'))
    .description('edit a pushed manifest list or OCI index: add, replace or remove platforms')
    .addHelpText('after', `
Examples:
  manifest index add r.example/app:1 r.example/app:1-riscv64
  manifest index remove r.example/app:1 --platform linux/s390x`);

  addPushOptions(index
    .command('add')
    .configureOutput(usageOutput(context.io, 'manifest index add'))
    .description('add images to the list a tag holds; an image replaces the entry of its platform')
    .argument('<target>', 'the tag holding the list, such as r.example/app:1, or a static registry\'s dir:ROOT//NAME:TAG or s3://…')
    .argument('<source...>', 'images to add, from a registry or a local docker-archive:FILE, oci:DIR or oci-archive:FILE (each one\'s platform is read from its config; a list adds all of its images)'), { edit: true })
    .addHelpText('after', `${KEEPS}

Examples:
  manifest index add r.example/app:1 r.example/app:1-riscv64
  manifest index add --dry-run r.example/app:1 r.example/app:1-arm64 r.example/app:1-s390x`)
    .action(async (targetText: string, sourceTexts: string[], flags: PushFlags, command: Command) => {
      await context.run(command, async (action) => {
        const [{ addToList }, { parseArchiveSource }, { parseStoreOrRegistryReference }] = await Promise.all([
          import('../../manifest/edit-list.js'), import('../../archive/source.js'), import('../../store/static-location.js'),
        ]);
        // A registry reference (the edit refuses a digest in its own words) or a static store's.
        const target = parseStoreOrRegistryReference(targetText);
        const spec: PushSpec = { target, tags: [], manifests: sourceTexts.map((s) => ({ image: parseArchiveSource(s) ?? parseReference(s) })) };
        const type = explicitType(flags, command);
        await pushSpecs([spec], flags, action, (s, options) => addToList(s.target, s.manifests.map((m) => m.image), { ...options, type }));
      });
    });

  addPushOptions(index
    .command('remove')
    .configureOutput(usageOutput(context.io, 'manifest index remove'))
    .description('take platforms (and their attestations) out of the list a tag holds')
    .argument('<target>', 'the tag holding the list, such as r.example/app:1, or a static registry\'s dir:ROOT//NAME:TAG or s3://…')
    .requiredOption('--platform <os/arch[/variant]>', 'platform to remove, such as linux/s390x (repeatable; linux/arm means arm/v7)', collect), { edit: true, sources: false })
    .addHelpText('after', `${KEEPS}
A platform the list does not have is exit 4, and removing every image is refused: nothing is pushed then.

Examples:
  manifest index remove r.example/app:1 --platform linux/s390x
  manifest index remove r.example/app:1 --platform linux/arm/v6 --platform linux/386`)
    .action(async (targetText: string, flags: RemoveFlags, command: Command) => {
      await context.run(command, async (action) => {
        const platforms: Platform[] = flags.platform.map((p) => parsePlatform(p));
        if (platforms.length === 0) throw new ManifestError('USAGE', 'name a platform to remove with --platform');
        const [{ removeFromList }, { parseStoreOrRegistryReference }] = await Promise.all([import('../../manifest/edit-list.js'), import('../../store/static-location.js')]);
        const target = parseStoreOrRegistryReference(targetText);
        const type = explicitType(flags, command);
        await pushSpecs([{ target, tags: [], manifests: [] }], flags, action, (s, options) => removeFromList(s.target, platforms, { ...options, type }));
      });
    });
}
