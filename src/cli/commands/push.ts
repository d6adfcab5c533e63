/**
 * `manifest push from-spec FILE…` (alias `manifest pushml`) and `manifest push from-args`: assemble a list from
 * per-architecture images and push it. Several specs form a batch: validated together first (a bad one stops all
 * before anything is pushed), then pushed concurrently over one client, reported one per spec in input order.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { clipInput, ManifestError } from '../../errors.js';
import type { ArchiveSession } from '../../archive/session.js';
import type { ListType } from '../../manifest/build-list.js';
import type { PushOptions, PushResult } from '../../manifest/push.js';
import type { PushSpec } from '../../spec/types.js';
import type { DigestFile } from '../digest-file.js';
import { rewriteServeConfigs } from '../rewrite-serve-configs.js';
import { describeWriteError } from '../write-error.js';
import { ReportedFailure } from '../failure-output.js';
import type { ActionContext, CommandContext } from '../command-context.js';
import { renderPushJson, type FailedPush } from '../render.js';
import { usageOutput } from '../usage-output.js';

/** Specs of a batch pushed at once (each with its own concurrency for sources, blobs and tags). */
const BATCH_CONCURRENCY = 8;

/** Pushes one spec: pushManifestList, or an edit of the list the target holds (index add/remove, --append). */
export type PushOne = (spec: PushSpec, options: PushOptions) => Promise<PushResult>;

/** The flags every push command shares, as commander parses them. */
export interface PushFlags {
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

interface FromSpecFlags extends PushFlags {
  append?: boolean;
}

interface FromArgsFlags extends PushFlags {
  platforms: string[];
  template: string;
  target: string;
  tags?: string[];
  annotations?: string[];
}

/** Parses --concurrency: a whole number from 1 to 256. */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^[0-9]{1,4}$/.test(value) || n < 1 || n > 256) throw new InvalidArgumentError('expected a whole number from 1 to 256');
  return n;
}

/** Parses a comma-separated option value (repeatable), refusing empty items. */
export function commaList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((v) => v.trim());
  if (items.some((v) => v === '')) throw new InvalidArgumentError('expected a comma-separated list without empty items');
  return [...(previous ?? []), ...items];
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Parses repeated --annotations key=value flags, or throws USAGE naming the bad one. */
export function annotationsOf(flags: readonly string[] | undefined): Record<string, string> {
  const pairs = (flags ?? []).map((pair): [string, string] => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ManifestError('USAGE', `--annotations "${clipInput(pair, 120)}": expected key=value`);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
  // fromEntries defines own properties: a "__proto__" key is kept as a key, not taken as a prototype.
  return Object.fromEntries(pairs);
}

/** Which push options a command takes: an edit of a pushed list has no default type; a removal no sources. */
export interface PushOptionSet {
  /** The command edits the list a tag holds (its type is kept unless --type is given); when omitted, false. */
  edit?: boolean;
  /** The command takes sources (the options about resolving them); when omitted, true. */
  sources?: boolean;
}

/** Declares the options every push command shares. */
export function addPushOptions(command: Command, set: PushOptionSet = {}): Command {
  const type = set.edit === true
    ? new Option('--type <type>', 'kind of the edited list: docker (manifest list) or oci (image index); default: the kind it is now').choices(['docker', 'oci'])
    : new Option('--type <type>', 'kind of list: docker (manifest list), oci (image index), or auto: docker when every image is Docker v2 and nothing is annotated').choices(['auto', 'docker', 'oci']).default('auto');
  command.addOption(type);
  if (set.sources !== false) {
    command
      .option('--no-verify-platform', 'do not check declared platforms against each image\'s config')
      .option('--no-flatten', 'nest a source that is itself a list instead of taking its entries')
      .option('--ignore-missing', 'skip sources that do not exist, with a warning (unreachable ones still fail); fail if none is left');
  }
  return command
    .option('--force', 'push the list and every tag even when a tag already points at the same digest')
    .option('--no-verify', 'do not read the tags back after pushing')
    .option('--dry-run', 'resolve the sources and print the list JSON (with --quiet, its digest); push nothing')
    .option('-q, --quiet', 'print only the digest')
    .option('--json', 'print a JSON document describing the push')
    .option('--digest-file <path>', 'also write the digest, alone, to this file (for CI to pin; with --dry-run, the digest a push would give)')
    .option('--concurrency <n>', 'most requests of one kind in flight', positiveInteger, 16);
}

/**
 * Returns --type when the user gave it, else undefined: an edited list keeps its own type unless told otherwise.
 */
export function explicitType(flags: PushFlags, command: Command): ListType | undefined {
  return command.getOptionValueSource('type') === 'cli' ? flags.type : undefined;
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
export async function pushSpecs(specs: readonly PushSpec[], flags: PushFlags, context: ActionContext, pushOne?: PushOne): Promise<void> {
  checkOutputFlags(flags, specs.length);
  if (specs.length === 0) throw new ManifestError('USAGE', 'no spec to push');
  // Opened before anything is pushed: failing afterwards would hide a push behind a file error.
  const digestFile = flags.digestFile === undefined ? undefined : await (await import('../digest-file.js')).openDigestFile(flags.digestFile);
  try {
    await pushAndReport(specs, flags, context, digestFile, pushOne);
  } finally {
    await digestFile?.discard();
  }
}

/** What a report that could not be written leaves behind: the push is done (say so), its output is not. */
function outputFailed(done: readonly PushResult[], specs: number, flags: PushFlags, where: string, err: unknown): ManifestError {
  const what = flags.dryRun === true
    ? 'nothing was pushed (--dry-run)'
    : done.length === 1 && specs === 1
      ? `the push is done (${done[0]?.reference ?? ''} is ${done[0]?.digest ?? ''})`
      : `${done.length} of ${specs} pushes are done`;
  return new ManifestError('OUTPUT_FAILED', `${what}, but writing ${where} failed: ${describeWriteError(err)}`, { cause: err, details: { pushDone: done.length > 0 } });
}

async function pushAndReport(specs: readonly PushSpec[], flags: PushFlags, context: ActionContext, digestFile: DigestFile | undefined, pushOne: PushOne | undefined): Promise<void> {
  const [first] = specs;
  if (first === undefined) throw new ManifestError('USAGE', 'no spec to push');
  const [{ isArchiveSource }, { isStaticReference }] = await Promise.all([import('../../archive/source.js'), import('../../store/static-location.js')]);
  // A static target (dir:, s3://) is no registry: --username then applies to the first registry involved.
  const [registryTarget = first.target, ...others] = [...specs.map((s) => s.target), ...specs.flatMap((s) => s.manifests.flatMap((m) => (isArchiveSource(m.image) ? [] : [m.image])))]
    .filter((ref) => !isStaticReference(ref));
  const client = await context.client(registryTarget, others);
  const [{ isPartialPushError, pushManifestList }, { mapWithLimit }] = await Promise.all([import('../../manifest/push.js'), import('../../map-with-limit.js')]);
  const { progressLine } = await import('../terminal.js');
  const progress = progressLine(context.options, context.io, 'resolving', specs.reduce((n, s) => n + s.manifests.length, 0));
  const options = { ...pushOptionsOf(flags, context), ...(progress === undefined ? {} : { progress: progress.sink }) };
  const batch = specs.length > 1;
  // Local sources of every spec share one session: each archive is read once, its temporary files removed at the end.
  const archives = specs.some((s) => s.manifests.some((m) => isArchiveSource(m.image))) ? await openArchiveSession(flags.concurrency) : undefined;
  const outcomes = await mapWithLimit(specs, BATCH_CONCURRENCY, async (spec): Promise<PushResult | FailedPush> => {
    try {
      return await (pushOne ?? pushManifestList)(spec, { ...options, client, ...(archives === undefined ? {} : { archives }) });
    } catch (error) {
      return { spec, error };
    }
  }).finally(async () => {
    progress?.finish();
    await archives?.close();
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
  // The lists now in the registry, partial pushes included: what a failed report must not hide.
  const done = outcomes.flatMap((o) => ('error' in o ? (isPartialPushError(o.error) ? [o.error.result] : []) : [o]));
  const failures: ManifestError[] = [];
  if (digestFile !== undefined && digest !== undefined) {
    await digestFile.commit(digest).catch((err: unknown) => { failures.push(outputFailed(done, specs.length, flags, `the digest to ${digestFile.path}`, err)); });
  }
  await io.flushStdout?.().catch((err: unknown) => { failures.push(outputFailed(done, specs.length, flags, 'the result to standard output', err)); });
  const [outputFailure] = failures;
  if (outputFailure !== undefined) {
    if (firstError === undefined) throw outputFailure;
    context.logger.warn(outputFailure.message);
  }
  if (flags.dryRun !== true) await regenerateServeConfigs(specs.filter((_, i) => { const o = outcomes[i]; return o !== undefined && !('error' in o); }), context);
  if (firstError === undefined) return;
  if (!batch) throw firstError.error;
  throw new ReportedFailure(firstError.code);
}

/**
 * Opens a session for local sources; its temporary files are also removed if the process exits at once (a second
 * Ctrl-C), which skips every finally block.
 */
export async function openArchiveSession(concurrency: number): Promise<ArchiveSession> {
  const [{ ArchiveSession }, { removeWorkspacesSync }] = await Promise.all([import('../../archive/session.js'), import('../../archive/workspace.js')]);
  if (!exitCleanupSet) process.once('exit', removeWorkspacesSync);
  exitCleanupSet = true;
  return new ArchiveSession({ concurrency });
}

let exitCleanupSet = false;

/** Rewrites the web server configurations `static serve-config --write` left in the dir stores pushed to. */
async function regenerateServeConfigs(pushed: readonly PushSpec[], context: ActionContext): Promise<void> {
  const { isStaticReference } = await import('../../store/static-location.js');
  await rewriteServeConfigs(pushed.map((s) => s.target).filter(isStaticReference).map((ref) => ref.store), context);
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
    - image: r.example/app:1.0-arm64   # platform omitted (or {}, or partial): read from the image's config
Unknown keys are ignored with a warning, as manifest-tool ignores them; a misspelt one (platfrom) is an error.

Several files, or several YAML documents in one file, are pushed as a batch.
Prints "Digest: sha256:… SIZE" (in a batch followed by the target) on stdout.`;

/** Declares `push from-spec`, `push from-args` and the `pushml` alias. */
export function addPushCommands(program: Command, context: CommandContext): void {
  const fromSpecAction = async (files: string[], flags: FromSpecFlags, command: Command): Promise<void> => {
    await context.run(command, async (action) => {
      const { loadSpecFiles, MAX_SPEC_BYTES, parseSpecText } = await import('../../spec/load.js');
      // "-" reads the spec from standard input, as the only file.
      if (files.includes('-') && files.length > 1) throw new ManifestError('USAGE', '"-" (standard input) must be the only spec file');
      if (files[0] === '-' && action.options.passwordStdin === true) {
        throw new ManifestError('USAGE', '"-" and --password-stdin both read standard input: give the spec as a file, or the credentials through docker login or --docker-cfg');
      }
      // Standard input is read only as far as the spec files' size limit (and one byte more, to tell it is over).
      const specs = files[0] === '-'
        ? parseSpecText(await action.io.readStdin(MAX_SPEC_BYTES), { file: '<stdin>', logger: action.logger })
        : await loadSpecFiles(files, { logger: action.logger, signal: action.signal });
      let pushOne: PushOne | undefined;
      if (flags.append === true) {
        const { appendToList } = await import('../../manifest/edit-list.js');
        const type = explicitType(flags, command);
        pushOne = (spec, options) => appendToList(spec, { ...options, type });
      }
      await pushSpecs(specs, flags, action, pushOne);
    });
  };

  const push = program
    .command('push')
    .configureOutput(usageOutput(context.io, 'manifest push'))
    .description('assemble a multi-platform list from per-platform images and push it')
    .addHelpText('after', `
The options of from-spec and from-args may also come before the subcommand, where manifest-tool
declares --type: manifest push --type oci from-spec app.yaml

Examples:
  manifest push from-spec prometheus.yaml
  manifest push from-args --platforms linux/amd64,linux/arm64 --template r.example/app-ARCH:1 --target r.example/app:1`);

  for (const [parent, name, path] of [[push, 'from-spec', 'manifest push from-spec'], [program, 'pushml', 'manifest pushml']] as const) {
    addPushOptions(parent.command(name)
      .configureOutput(usageOutput(context.io, path))
      .description(name === 'pushml' ? 'push lists described by YAML specs (same as push from-spec)' : 'push lists described by YAML specs (manifest-tool\'s format)')
      .argument('<file...>', 'YAML spec files ("-" reads one from standard input)'))
      .option('--append', 'merge the spec\'s images into the list the target tag holds now: an image replaces the entry of its platform, other entries stay (the list keeps its type and annotations unless --type is given); pushes the spec as is when the tag does not exist')
      .addHelpText('after', `${SPEC_HELP}

Examples:
  ${path} prometheus.yaml
  ${path} --dry-run prometheus.yaml
  ${path} --digest-file digest.txt app.yaml
  ${path} --append riscv64.yaml          # add (or replace) riscv64 in the pushed list`)
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
for platforms without one). Any placeholder may be left out as long as every platform names its own image
(r.example/app:OS for linux/amd64,windows/amd64). Prints "Digest: sha256:… SIZE" on stdout.

Examples:
  manifest push from-args --platforms linux/amd64,linux/arm64 --template r.example/app-ARCH:1 --target r.example/app:1
  manifest push from-args --platforms linux/amd64,linux/arm/v7 --template r.example/app:1-OS-ARCHVARIANT \\
      --target r.example/app:1 --tags 1.0,latest`)
    .action(async (flags: FromArgsFlags, command: Command) => {
      await context.run(command, async (action) => {
        const { specFromArgs } = await import('../../spec/from-args.js');
        const annotations = annotationsOf(flags.annotations);
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
