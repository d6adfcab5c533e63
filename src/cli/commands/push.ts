/**
 * `manifest push from-spec FILE…` (alias `manifest pushml`) and `manifest push from-args`: assemble a list from
 * per-architecture images and push it. Several specs form a batch: validated together first (a bad one stops all
 * before anything is pushed), then pushed concurrently over one client, reported one per spec in input order.
 */
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ManifestError } from '../../errors.js';
import type { ListType } from '../../manifest/build-list.js';
import type { PushOptions, PushResult } from '../../manifest/push.js';
import type { Reference } from '../../ref.js';
import type { PushSpec } from '../../spec/types.js';
import { ReportedFailure } from '../failure-output.js';
import type { ActionContext, CommandContext } from '../program.js';
import { renderPushJson } from '../render.js';
import { usageOutput } from '../usage-output.js';

/** Specs of a batch pushed at once (each with its own concurrency for sources, blobs and tags). */
const BATCH_CONCURRENCY = 4;

interface PushFlags {
  type: ListType;
  verifyPlatform: boolean;
  flatten: boolean;
  ignoreMissing?: boolean;
  force?: boolean;
  verify: boolean;
  dryRun?: boolean;
  quiet?: boolean;
  json?: boolean;
  digestFile?: string;
  concurrency: number;
}

interface FromArgsFlags extends PushFlags {
  platforms: string;
  template: string;
  target: string;
  tags?: string[];
  annotations?: string[];
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^[0-9]{1,4}$/.test(value) || n < 1 || n > 256) throw new InvalidArgumentError('expected a whole number from 1 to 256');
  return n;
}

function commaList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((v) => v.trim());
  if (items.some((v) => v === '')) throw new InvalidArgumentError('expected a comma-separated list without empty items');
  return [...(previous ?? []), ...items];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Declares the options every push command shares. */
function addPushOptions(command: Command): Command {
  return command
    .addOption(new Option('--type <type>', 'kind of list: docker (manifest list), oci (image index), or auto: docker when every image is Docker v2 and nothing is annotated').choices(['auto', 'docker', 'oci']).default('auto'))
    .option('--no-verify-platform', 'do not check declared platforms against each image\'s config')
    .option('--no-flatten', 'nest a source that is itself a list instead of taking its entries')
    .option('--ignore-missing', 'skip sources that cannot be found or reached (with a warning); fail only if none is left')
    .option('--force', 'push the list and every tag even when a tag already points at the same digest')
    .option('--no-verify', 'do not read the tags back after pushing')
    .option('--dry-run', 'resolve the sources and print the list JSON; push nothing')
    .option('-q, --quiet', 'print only the digest')
    .option('--json', 'print a JSON document describing the push')
    .option('--digest-file <path>', 'also write the digest, alone, to this file (for CI to pin)')
    .option('--concurrency <n>', 'most requests of one kind in flight', positiveInteger, 16);
}

function pushOptionsOf(flags: PushFlags, context: Pick<ActionContext, 'io' | 'logger'>): Omit<PushOptions, 'client'> {
  return {
    type: flags.type,
    verifyPlatform: flags.verifyPlatform,
    flatten: flags.flatten,
    ignoreMissing: flags.ignoreMissing === true,
    force: flags.force === true,
    verify: flags.verify,
    dryRun: flags.dryRun === true,
    concurrency: flags.concurrency,
    signal: context.io.signal,
    logger: context.logger,
  };
}

function checkOutputFlags(flags: PushFlags, specs: number): void {
  const chosen = [flags.quiet === true && '--quiet', flags.json === true && '--json', flags.dryRun === true && '--dry-run'].filter((f) => f !== false);
  if (chosen.length > 1 && !(chosen.length === 2 && flags.dryRun === true && flags.json === true)) {
    throw new ManifestError('USAGE', `${chosen.join(' and ')} cannot be used together`);
  }
  if (flags.digestFile !== undefined && specs > 1) {
    throw new ManifestError('USAGE', `--digest-file takes one spec, but ${specs} were given (use --json to get every digest)`);
  }
}

/** Pushes validated specs over one client and prints one result per spec; throws ReportedFailure if any failed. */
async function pushSpecs(specs: readonly PushSpec[], flags: PushFlags, context: ActionContext): Promise<void> {
  checkOutputFlags(flags, specs.length);
  const [first, ...rest] = specs;
  if (first === undefined) throw new ManifestError('USAGE', 'no spec to push');
  const others: Reference[] = [...rest.map((s) => s.target), ...specs.flatMap((s) => s.manifests.map((m) => m.image))];
  const client = await context.client(first.target, others);
  const { pushManifestList } = await import('../../manifest/push.js');
  const options = pushOptionsOf(flags, context);
  const batch = specs.length > 1;
  const { mapWithLimit } = await import('../../map-with-limit.js');
  const outcomes = await mapWithLimit(specs, batch ? BATCH_CONCURRENCY : 1, async (spec): Promise<PushResult | { error: unknown }> => {
    try {
      return await pushManifestList(spec, { ...options, client });
    } catch (error) {
      if (!batch) throw error;
      return { error };
    }
  });
  const { io } = context;
  if (flags.json === true) {
    io.stdout(`${renderPushJson(outcomes.map((o, i) => ('error' in o ? { spec: specs[i] as PushSpec, error: o.error } : o)), batch)}\n`);
  }
  let exitCode = 0;
  outcomes.forEach((outcome, i) => {
    const spec = specs[i] as PushSpec;
    if ('error' in outcome) {
      const code = context.report(outcome.error, `${spec.target.original}: `);
      if (exitCode === 0) exitCode = code;
      return;
    }
    if (flags.json === true) return;
    if (flags.dryRun === true) {
      io.stdout(outcome.bytes);
      io.stdout('\n');
    } else if (flags.quiet === true) {
      io.stdout(batch ? `${outcome.digest} ${outcome.reference}\n` : `${outcome.digest}\n`);
    } else {
      io.stdout(`Digest: ${outcome.digest} ${outcome.size}${batch ? ` ${outcome.reference}` : ''}\n`);
    }
  });
  const single = outcomes[0];
  if (flags.digestFile !== undefined && single !== undefined && !('error' in single) && flags.dryRun !== true) {
    try {
      await writeFile(flags.digestFile, `${single.digest}\n`);
    } catch (err) {
      throw new ManifestError('INVALID_INPUT', `writing --digest-file ${flags.digestFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (exitCode !== 0) throw new ReportedFailure(exitCode);
}

const SPEC_HELP = `
The spec is manifest-tool's YAML (schemas/spec.schema.json describes it):
  image: r.example/app:1.0          # where the list goes (its tag is the first tag)
  tags: ["1", "latest"]             # further tags (optional)
  manifests:
    - image: r.example/app:1.0-amd64
      platform: {architecture: amd64, os: linux}
    - image: r.example/app:1.0-armv7
      platform: {architecture: arm, os: linux, variant: v7}
    - image: r.example/app:1.0-arm64   # platform omitted: read from the image's config

Several files, or several YAML documents in one file, are pushed as a batch.
Prints "Digest: sha256:… SIZE" (in a batch followed by the target) on stdout.`;

/** Declares `push from-spec`, `push from-args` and the `pushml` alias. */
export function addPushCommands(program: Command, context: CommandContext): void {
  const fromSpecAction = async (files: string[], flags: PushFlags, command: Command): Promise<void> => {
    await context.run(command, async (action) => {
      const { loadSpecFiles } = await import('../../spec/load.js');
      const specs = await loadSpecFiles(files);
      await pushSpecs(specs, flags, action);
    });
  };

  const push = program
    .command('push')
    .configureOutput(usageOutput(context.io, 'manifest push'))
    .description('assemble a multi-platform list from per-platform images and push it');

  for (const [parent, name, path] of [[push, 'from-spec', 'manifest push from-spec'], [program, 'pushml', 'manifest pushml']] as const) {
    addPushOptions(parent.command(name)
      .configureOutput(usageOutput(context.io, path))
      .description(name === 'pushml' ? 'push lists described by YAML specs (same as push from-spec)' : 'push lists described by YAML specs (manifest-tool\'s format)')
      .argument('<file...>', 'YAML spec files'))
      .addHelpText('after', `${SPEC_HELP}

Examples:
  ${path} prometheus.yaml
  ${path} --dry-run prometheus.yaml
  ${path} --digest-file digest.txt app.yaml`)
      .action(fromSpecAction);
  }

  addPushOptions(push.command('from-args')
    .configureOutput(usageOutput(context.io, 'manifest push from-args'))
    .description('push a list whose sources are named by a template with OS, ARCH and VARIANT placeholders')
    .requiredOption('--platforms <list>', 'comma-separated platforms, such as linux/amd64,linux/arm64,linux/arm/v7')
    .requiredOption('--template <ref>', 'source reference with placeholders, such as r.example/app-ARCH:1.0 or r.example/app:1.0-OS-ARCHVARIANT')
    .requiredOption('--target <ref>', 'where the list goes, such as r.example/app:1.0')
    .option('--tags <list>', 'further tags for the list, comma-separated', commaList)
    .option('--annotations <key=value>', 'annotation of the list (repeatable; makes an OCI index)', collect))
    .addHelpText('after', `
Each platform's os, architecture and variant replace OS, ARCH and VARIANT in --template (VARIANT is empty
for platforms without one). Prints "Digest: sha256:… SIZE" on stdout.

Examples:
  manifest push from-args --platforms linux/amd64,linux/arm64 --template r.example/app-ARCH:1 --target r.example/app:1
  manifest push from-args --platforms linux/amd64,linux/arm/v7 --template r.example/app:1-OS-ARCHVARIANT \\
      --target r.example/app:1 --tags 1.0,latest`)
    .action(async (flags: FromArgsFlags, command: Command) => {
      await context.run(command, async (action) => {
        const { specFromArgs } = await import('../../spec/from-args.js');
        const annotations: Record<string, string> = {};
        for (const pair of flags.annotations ?? []) {
          const eq = pair.indexOf('=');
          if (eq <= 0) throw new ManifestError('USAGE', `--annotations "${pair}": expected key=value`);
          annotations[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        const spec = specFromArgs({
          platforms: flags.platforms,
          template: flags.template,
          target: flags.target,
          ...(flags.tags === undefined ? {} : { tags: flags.tags }),
          ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
        });
        await pushSpecs([spec], flags, action);
      });
    });
}
