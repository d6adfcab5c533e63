/** `manifest blob get REPO@DIGEST [-o FILE]`: a blob, streamed and checked against its digest as it arrives. */
import type { Command } from 'commander';
import type { Digest } from '../../digest.js';
import { ManifestError, withContext } from '../../errors.js';
import { parseReference } from '../../ref.js';
import type { CommandContext } from '../command-context.js';
import { usageOutput } from '../usage-output.js';

interface BlobGetFlags {
  output?: string;
  json?: boolean;
}

/** Declares `blob get`. */
export function addBlobCommands(program: Command, context: CommandContext): void {
  const blob = program
    .command('blob')
    .configureOutput(usageOutput(context.io, 'manifest blob'))
    .description('read blobs (layers, configs) by digest')
    .addHelpText('after', `
Examples:
  manifest blob get -o layer.tar.gz r.example/app@sha256:…
  manifest blob get r.example/app@sha256:… | tar -tz`);

  blob
    .command('get')
    .configureOutput(usageOutput(context.io, 'manifest blob get'))
    .description('download a blob, verifying its digest while it streams')
    .argument('<repo@digest>', 'repository and blob digest, such as r.example/app@sha256:…')
    .option('-o, --output <file>', 'write the blob to this file: it appears only once the digest checks out (else nothing is left)')
    .option('--json', 'with --output, print a JSON document (digest, size, file) instead of nothing')
    .addHelpText('after', `
Without --output the bytes go to standard output as they arrive; a blob whose bytes do not match its digest
still ends with exit 5, after them. With --output they go to a temporary file beside FILE, renamed onto FILE
only after the check: on any failure (exit 5, a broken connection, Ctrl-C) FILE is left as it was.

Examples:
  manifest blob get -o config.json r.example/app@sha256:4f2a…
  manifest blob get r.example/app@sha256:9b1c… | tar -tzf -`)
    .action(async (refText: string, flags: BlobGetFlags, command: Command) => {
      await context.run(command, async ({ io, client, signal }) => {
        const ref = parseReference(refText);
        if (ref.digest === undefined) throw new ManifestError('USAGE', `"${ref.original}" names no digest; a blob is read by digest: REPO@sha256:…`);
        if (flags.json === true && flags.output === undefined) throw new ManifestError('USAGE', '--json needs --output (without it, standard output carries the blob)');
        const digest: Digest = ref.digest;
        const registry = await client(ref);
        if (flags.output !== undefined) {
          const { saveBlob } = await import('../../manifest/save-blob.js');
          const saved = await saveBlob(ref, digest, flags.output, { client: registry, signal });
          if (flags.json === true) io.stdout(`${JSON.stringify({ name: ref.name, ...saved }, null, 2)}\n`);
          return;
        }
        const { stream } = await registry.getBlobStream(ref, digest, { signal })
          .catch((err: unknown) => { throw withContext(`fetching blob ${digest} from ${ref.name}`, err); });
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            if (io.writeStdout === undefined) io.stdout(chunk);
            else await io.writeStdout(chunk);
          }
        } catch (err) {
          throw withContext(`fetching blob ${digest} from ${ref.name}`, err);
        } finally {
          stream.destroy();
        }
      });
    });
}
