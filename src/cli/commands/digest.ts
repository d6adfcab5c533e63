/** `manifest digest REF`: the digest a reference resolves to, for pinning. */
import type { Command } from 'commander';
import { parsePlatform } from '../../platform.js';
import type { CommandContext } from '../command-context.js';
import { readableReference } from '../readable-reference.js';
import { usageOutput } from '../usage-output.js';

interface DigestFlags {
  platform?: string;
  json?: boolean;
}

/** Declares the digest command. */
export function addDigestCommand(program: Command, context: CommandContext): void {
  program
    .command('digest')
    .configureOutput(usageOutput(context.io, 'manifest digest'))
    .description('print the digest a reference resolves to (a list\'s own, or with --platform its image\'s)')
    .argument('<ref>', 'image reference, such as r.example/app:1; or a static registry\'s dir:ROOT//NAME:TAG or s3://BUCKET//NAME:TAG?…')
    .option('--platform <os/arch[/variant]>', 'print the digest of this platform\'s image in the list, such as linux/arm64')
    .option('--json', 'print a JSON document: digest, media type, size, and the platform and list when --platform is given')
    .addHelpText('after', `
A HEAD request is enough when the registry sends Docker-Content-Digest (Docker Hub does not count HEADs against
its pull limit); otherwise the manifest is read and hashed. With --platform the list is read and its entry for
the platform chosen (linux/arm means arm/v7 first, as inspect --platform chooses).

Examples:
  manifest digest r.example/app:1
  echo "image: r.example/app@$(manifest digest r.example/app:1)"
  manifest digest --platform linux/arm64 r.example/app:1
  manifest digest dir:/srv/www//team/app:1.0          # read from the static store's files`)
    .action(async (refText: string, flags: DigestFlags, command: Command) => {
      await context.run(command, async ({ io, client, signal }) => {
        const platform = flags.platform === undefined ? undefined : parsePlatform(flags.platform);
        const { ref, client: reader } = await readableReference(refText, { client });
        const { resolveDigest } = await import('../../manifest/resolve-digest.js');
        const result = await resolveDigest(ref, { signal, ...(reader === undefined ? {} : { client: reader }), ...(platform === undefined ? {} : { platform }) });
        io.stdout(flags.json === true ? `${JSON.stringify(result, null, 2)}\n` : `${result.digest}\n`);
      });
    });
}
