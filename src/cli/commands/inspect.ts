/** `manifest inspect REF`: what a tag resolves to, as text, raw bytes or JSON. */
import type { Command } from 'commander';
import { ManifestError } from '../../errors.js';
import { parsePlatform } from '../../platform.js';
import { bareRegistryHost } from '../../ref.js';
import type { CommandContext } from '../command-context.js';
import { readableReference } from '../readable-reference.js';
import { usageOutput } from '../usage-output.js';

interface InspectFlags {
  raw?: boolean;
  json?: boolean;
  platform?: string;
  expandConfig?: boolean;
}

/** Declares the inspect command. */
export function addInspectCommand(program: Command, context: CommandContext): void {
  program
    .command('inspect')
    .configureOutput(usageOutput(context.io, 'manifest inspect'))
    .description('show what a reference resolves to: a list with each platform\'s image, or one image')
    .argument('<ref>', 'image reference, such as r.example/app:1, alpine, or app@sha256:…; or a static registry\'s dir:ROOT//NAME:TAG or s3://BUCKET//NAME:TAG?…')
    .option('--raw', 'print the manifest bytes exactly as the registry sent them')
    .option('--json', 'print one JSON document with the same data as the text')
    .option('--platform <os/arch[/variant]>', 'resolve a list to the image of this platform, such as linux/arm64 or linux/arm/v7')
    .option('--expand-config', 'also show each image\'s config: created, entrypoint, cmd, env, labels, os.version (text and --json)')
    .addHelpText('after', `
The text follows manifest-tool v1's layout; --json is the stable interface for scripts. A static
registry (dir:, s3://) is read from the directory or bucket itself, as a push to it wrote it.

Examples:
  manifest inspect r.example/app:1
  manifest inspect --platform linux/arm/v7 r.example/app:1
  manifest inspect --raw r.example/app:1 | sha256sum
  manifest inspect --json --expand-config r.example/app:1
  manifest inspect dir:/srv/www//team/app:1.0`)
    .action(async (refText: string, flags: InspectFlags, command: Command) => {
      await context.run(command, async ({ io, client, logger, signal }) => {
        if (flags.raw === true && flags.json === true) throw new ManifestError('USAGE', '--raw and --json cannot be used together');
        if (flags.raw === true && flags.expandConfig === true) {
          throw new ManifestError('USAGE', '--raw prints the registry\'s bytes unchanged, so it cannot add the configs: use --json --expand-config');
        }
        const platform = flags.platform === undefined ? undefined : parsePlatform(flags.platform);
        const options = { signal, expandConfig: flags.expandConfig === true, ...(platform === undefined ? {} : { platform }) };
        const [{ inspect }, render] = await Promise.all([import('../../manifest/inspect.js'), import('../render.js')]);
        const { ref, client: reader } = await readableReference(refText, { client });
        if (bareRegistryHost(refText, ref) !== undefined) {
          logger.warn(`"${refText}" names the Docker Hub image ${ref.repository} at tag ${ref.tag}; for a registry at ${refText}, write ${refText}/REPOSITORY[:TAG]`);
        }
        const result = await inspect(ref, { ...options, ...(reader === undefined ? {} : { client: reader }) });
        if (flags.raw === true) io.stdout(result.bytes);
        else if (flags.json === true) io.stdout(render.renderInspectJson(result));
        else io.stdout(render.renderInspectText(result));
      });
    });
}
