/**
 * `manifest push from-spec FILE…` (alias `manifest pushml`) and `manifest push from-args`: assemble a list from
 * per-architecture images and push it. Several specs form a batch: validated together first (a bad one stops all
 * before anything is pushed), then pushed concurrently over one client, reported one per spec in input order.
 */
import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { clipInput, ManifestError } from '../../errors.js';
import type { ListType } from '../../manifest/build-list.js';
import type { PushOptions, PushResult } from '../../manifest/push.js';
import { isStaticReference } from '../../store/static-location.js';
import type { PushSpec } from '../../spec/types.js';
import { ReportedFailure } from '../failure-output.js';
import type { ActionContext, CommandContext } from '../program.js';
import { renderPushJson, type FailedPush } from '../render.js';
import { usageOutput } from '../usage-output.js';

/** Specs of a batch pushed at once (each with its own concurrency for sources, blobs and tags). */
const BATCH_CONCURRENCY = 8;

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
  platforms: string[];
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
    .option('--ignore-missing', 'skip sources that do not exist, with a warning (unreachable ones still fail); fail if none is left')
    .option('--force', 'push the list and every tag even when a tag already points at the same digest')
    .option('--no-verify', 'do not read the tags back after pushing')
    .option('--dry-run', 'resolve the sources and print the list JSON (with --quiet, its digest); push nothing')
    .option('-q, --quiet', 'print only the digest')
    .option('--json', 'print a JSON document describing the push')
    .option('--digest-file <path>', 'also write the digest, alone, to this file (for CI to pin; with --dry-run, the digest a push would give)')
    .option('--concurrency <n>', 'most requests of one kind in flight', positiveInteger, 16);
}

function pushOptionsOf(flags: PushFlags, context: Pick<ActionContext, 'signal' | 'logger'>): Omit<PushOptions, 'client'> {
  return {
    type: flags.type,
    verifyPlatform: flags.verifyPlatform,
    flatten: flags.flatten,
    ignoreMissing: flags.ignoreMissing === true,
    force: flags.force === true,
    verify: flags.verify,
    dryRun: flags.dryRun === true,
    concurrency: flags.concurrency,
    signal: context.signal,
    logger: context.logger,
  };
}

function checkOutputFlags(flags: PushFlags, specs: number): void {
  if (flags.quiet === true && flags.json === true) throw new ManifestError('USAGE', '--quiet and --json cannot be used together');
  if (flags.digestFile !== undefined && specs > 1) {
    throw new ManifestError('USAGE', `--digest-file takes one spec, but ${specs} were given (use --json to get every digest)`);
  }
}

/** Checks, before anything is pushed, that --digest-file can be written: failing afterwards would hide a push. */
async function checkDigestFile(path: string): Promise<void> {
  try {
    await access(dirname(resolve(path)), constants.W_OK);
  } catch (err) {
    throw new ManifestError('USAGE', `--digest-file ${path}: cannot write in ${dirname(resolve(path))} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
}

/** Prints the result line of one spec (or its list, for --dry-run); nothing with --json. */
function printResult(result: PushResult, flags: PushFlags, batch: boolean, io: ActionContext['io']): void {
  if (flags.json === true) return;
  if (flags.dryRun === true && flags.quiet !== true) {
    io.stdout(result.bytes);
    io.stdout('\n');
  } else if (flags.quiet === true) {
    io.stdout(batch ? `${result.digest} ${result.reference}\n` : `${result.digest}\n`);
  } else {
    io.stdout(`Digest: ${result.digest} ${result.size}${batch ? ` ${result.reference}` : ''}\n`);
  }
}

/**
 * Pushes validated specs over one client and prints one result per spec. A single spec's failure is thrown for
 * main to render; a batch reports each failure itself and throws ReportedFailure with the first one's exit code.
 * A partial push still prints its Digest line (and --digest-file): the list is in the registry.
 */
async function pushSpecs(specs: readonly PushSpec[], flags: PushFlags, context: ActionContext): Promise<void> {
  checkOutputFlags(flags, specs.length);
  const [first] = specs;
  if (first === undefined) throw new ManifestError('USAGE', 'no spec to push');
  if (flags.digestFile !== undefined) await checkDigestFile(flags.digestFile);
  // A static target (dir:, s3://) is no registry: --username then applies to the first registry involved.
  const [registryTarget = first.target, ...others] = [...specs.map((s) => s.target), ...specs.flatMap((s) => s.manifests.map((m) => m.image))]
    .filter((ref) => !isStaticReference(ref));
  const client = await context.client(registryTarget, others);
  const [{ isPartialPushError, pushManifestList }, { mapWithLimit }] = await Promise.all([import('../../manifest/push.js'), import('../../map-with-limit.js')]);
  const options = pushOptionsOf(flags, context);
  const batch = specs.length > 1;
  const outcomes = await mapWithLimit(specs, BATCH_CONCURRENCY, async (spec): Promise<PushResult | FailedPush> => {
    try {
      return await pushManifestList(spec, { ...options, client });
    } catch (error) {
      return { spec, error };
    }
  });
  const { io } = context;
  if (flags.json === true) io.stdout(`${context.redact(renderPushJson(outcomes, batch))}\n`);
  let firstError: { error: unknown; code: number } | undefined;
  for (const outcome of outcomes) {
    if (!('error' in outcome)) {
      printResult(outcome, flags, batch, io);
      continue;
    }
    if (isPartialPushError(outcome.error)) printResult(outcome.error.result, flags, batch, io);
    if (!batch) {
      firstError = { error: outcome.error, code: 0 };
      break;
    }
    const code = context.report(outcome.error, `${outcome.spec.target.original}: `);
    firstError ??= { error: outcome.error, code };
  }
  const single = outcomes[0];
  const digest = single === undefined ? undefined : 'error' in single ? (isPartialPushError(single.error) ? single.error.result.digest : undefined) : single.digest;
  if (flags.digestFile !== undefined && digest !== undefined) {
    try {
      await writeFile(flags.digestFile, `${digest}\n`);
    } catch (err) {
      throw new ManifestError('INVALID_INPUT', `writing --digest-file ${flags.digestFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (flags.dryRun !== true) await regenerateServeConfigs(specs.filter((_, i) => { const o = outcomes[i]; return o !== undefined && !('error' in o); }), context);
  if (firstError === undefined) return;
  if (!batch) throw firstError.error;
  throw new ReportedFailure(firstError.code);
}

/** Rewrites the web server configurations `static serve-config --write` left in the dir stores pushed to. */
async function regenerateServeConfigs(pushed: readonly PushSpec[], context: ActionContext): Promise<void> {
  const stores = pushed.map((s) => s.target).filter(isStaticReference);
  if (stores.length === 0) return;
  const { regenerateWrittenConfigs } = await import('../../manifest/serve-config.js');
  for (const store of stores) {
    for (const path of await regenerateWrittenConfigs(store.store, { signal: context.signal })) context.logger.warn(`rewrote ${path}: reload the web server`);
  }
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
      const { loadSpecFiles, parseSpecText } = await import('../../spec/load.js');
      // "-" reads the spec from standard input, as the only file.
      if (files.includes('-') && files.length > 1) throw new ManifestError('USAGE', '"-" (standard input) must be the only spec file');
      const specs = files[0] === '-' ? parseSpecText(await action.io.readStdin(), { file: '<stdin>' }) : await loadSpecFiles(files);
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
      .argument('<file...>', 'YAML spec files ("-" reads one from standard input)'))
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
    .requiredOption('--platforms <list>', 'comma-separated platforms, such as linux/amd64,linux/arm64,linux/arm/v7 (repeatable)', commaList)
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
        const pairs = (flags.annotations ?? []).map((pair): [string, string] => {
          const eq = pair.indexOf('=');
          if (eq <= 0) throw new ManifestError('USAGE', `--annotations "${clipInput(pair, 120)}": expected key=value`);
          return [pair.slice(0, eq), pair.slice(eq + 1)];
        });
        // fromEntries defines own properties: a "__proto__" key is kept as a key, not taken as a prototype.
        const annotations: Record<string, string> = Object.fromEntries(pairs);
        const spec = specFromArgs({
          platforms: flags.platforms.join(','),
          template: flags.template,
          target: flags.target,
          ...(flags.tags === undefined ? {} : { tags: flags.tags }),
          ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
        });
        await pushSpecs([spec], flags, action);
      });
    });
}
