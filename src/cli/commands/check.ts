/**
 * `manifest check FILE|- … (--platforms LIST | --nodes FILE|-)`: before a rollout, tells for each workload of
 * Kubernetes YAML which platforms its images lack, on the nodes it would run on. Exit 0 when every image covers
 * them, EXIT_MISSING_PLATFORMS when some lack one, a registry failure's own code when an image cannot be read.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ManifestError } from '../../errors.js';
import type { KubeNode } from '../../kube/nodes.js';
import type { Workload } from '../../kube/workloads.js';
import { parsePlatform, type Platform } from '../../platform.js';
import { ReportedFailure } from '../failure-output.js';
import type { CommandContext } from '../command-context.js';
import { usageOutput } from '../usage-output.js';

/** Exit code when an image lacks a platform a workload needs (distinct from every failure's code: design.md §3). */
export const EXIT_MISSING_PLATFORMS = 10;

/** Largest YAML or JSON input read, per file: `helm template` of a big chart, or the nodes of a large cluster. */
const MAX_INPUT_BYTES = 32 * 1024 * 1024;

interface CheckFlags {
  platforms?: string[];
  nodes?: string;
  json?: boolean;
  concurrency: number;
}

function platformList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((v) => v.trim());
  if (items.some((v) => v === '')) throw new InvalidArgumentError('expected a comma-separated list without empty items');
  return [...(previous ?? []), ...items];
}

function concurrencyOf(value: string): number {
  const n = Number(value);
  if (!/^[0-9]{1,4}$/.test(value) || n < 1 || n > 256) throw new InvalidArgumentError('expected a whole number from 1 to 256');
  return n;
}

/** Reads a file (or standard input for "-") as UTF-8 text, bounded. */
async function readInput(path: string, what: string, readStdin: () => Promise<string>): Promise<{ file: string; text: string }> {
  if (path === '-') return { file: '<stdin>', text: await readStdin() };
  const { readCapped, readError } = await import('../../spec/load.js');
  let bytes: Uint8Array;
  try {
    bytes = await readCapped(path, MAX_INPUT_BYTES);
  } catch (err) {
    throw readError(path, err, what);
  }
  if (bytes.byteLength > MAX_INPUT_BYTES) throw new ManifestError('INVALID_INPUT', `${path}: larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB, the limit for ${what}`);
  try {
    return { file: path, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    throw new ManifestError('INVALID_INPUT', `${path}: not UTF-8 text`);
  }
}

/** Reads the workloads of every input; all problems of all inputs are reported at once (exit 2). */
async function readAllWorkloads(inputs: readonly { file: string; text: string }[]): Promise<Workload[]> {
  const { loadWorkloads } = await import('../../kube/workloads.js');
  const { workloads, skipped } = loadWorkloads(inputs);
  if (workloads.length === 0) {
    const names = inputs.map((i) => i.file).join(', ');
    throw new ManifestError('INVALID_INPUT', `${names}: no workload found (DaemonSet, Deployment, StatefulSet, ReplicaSet, ReplicationController, Job, CronJob, Pod, PodTemplate)${skipped > 0 ? `; ${skipped} other object${skipped === 1 ? '' : 's'} skipped` : ''}`);
  }
  return workloads;
}

/** Reads `kubectl get nodes -o json` (or -o yaml) output. */
async function readAllNodes(input: { file: string; text: string }): Promise<KubeNode[]> {
  const { readNodes } = await import('../../kube/nodes.js');
  let value: unknown;
  if (/^\s*[{[]/.test(input.text)) {
    try {
      value = JSON.parse(input.text) as unknown;
    } catch (err) {
      throw new ManifestError('INVALID_INPUT', `${input.file}: invalid JSON: ${(err as Error).message}`);
    }
  } else {
    const [{ parseYamlDocuments }, { SpecError }, { MAX_WORKLOAD_YAML_NODES }] = await Promise.all([
      import('../../spec/parse-yaml.js'), import('../../spec/spec-error.js'), import('../../kube/workloads.js'),
    ]);
    const parsed = parseYamlDocuments(input.text, input.file, { maxNodes: MAX_WORKLOAD_YAML_NODES });
    if (parsed.issues.length > 0) throw new SpecError(parsed.issues);
    value = parsed.documents.find((d) => d.value !== null)?.value;
  }
  const { nodes, problems } = readNodes(value);
  const [first] = problems;
  if (first !== undefined) {
    throw new ManifestError('INVALID_INPUT', `${input.file}: ${first}${problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : ''}`);
  }
  return nodes;
}

/** Declares the check command. */
export function addCheckCommand(program: Command, context: CommandContext): void {
  program
    .command('check')
    .configureOutput(usageOutput(context.io, 'manifest check'))
    .description('tell which platforms the images of Kubernetes workloads lack on the nodes they would run on')
    .argument('<file...>', 'Kubernetes YAML: manifests, a List, or `helm template` / `kustomize build` output ("-" reads standard input)')
    .option('--platforms <list>', 'platforms every workload must run on, comma-separated, such as linux/amd64,linux/arm64 (repeatable)', platformList)
    .option('--nodes <file>', 'the cluster\'s nodes, as `kubectl get nodes -o json` prints them ("-" reads standard input)')
    .option('--json', 'print one JSON document (schemas/check.schema.json) instead of the table')
    .option('--concurrency <n>', 'most images read at once', concurrencyOf, 16)
    .addHelpText('after', `
Each workload (DaemonSet, Deployment, StatefulSet, ReplicaSet, ReplicationController, Job, CronJob, Pod,
PodTemplate) needs the platforms of the nodes it may run on: those its nodeSelector and required node affinity
select and whose NoSchedule/NoExecute taints it tolerates (kubernetes.io/os, kubernetes.io/arch,
node.kubernetes.io/windows-build give a node's platform). With --platforms, only selectors on those labels
narrow the list. Every container, init container and ephemeral container is checked; each image is read once.
An arm node is taken as arm/v7 and runs arm images of v7 or older; arm64 is arm64/v8; a Windows node needs an
image of its build.

Exit: 0 when every image covers what its workload needs, ${EXIT_MISSING_PLATFORMS} when one lacks a platform, the registry's
code (3, 4, 5, 6) when an image cannot be read, 2 for bad input.

Examples:
  manifest check --nodes nodes.json daemonset.yaml
  kubectl get nodes -o json > nodes.json && helm template ./chart | manifest check --nodes nodes.json -
  manifest check --platforms linux/amd64,linux/arm64,linux/arm/v7 deploy/*.yaml
  kustomize build overlays/prod | manifest check --json --platforms linux/amd64,linux/arm64 -`)
    .action(async (files: string[], flags: CheckFlags, command: Command) => {
      await context.run(command, async ({ io, client, signal, report, options }) => {
        if ((flags.platforms === undefined) === (flags.nodes === undefined)) {
          throw new ManifestError('USAGE', flags.nodes === undefined
            ? 'say what the workloads must run on: --platforms linux/amd64,linux/arm64, or --nodes nodes.json (kubectl get nodes -o json)'
            : '--platforms and --nodes cannot be used together');
        }
        if ([...files, flags.nodes].filter((f) => f === '-').length > 1) throw new ManifestError('USAGE', '"-" (standard input) can be read once: name the other input as a file');
        const platforms: Platform[] | undefined = flags.platforms?.map((p) => parsePlatform(p));
        const inputs = [];
        for (const file of files) inputs.push(await readInput(file, 'Kubernetes YAML', () => io.readStdin()));
        const workloads = await readAllWorkloads(inputs);
        const nodes = flags.nodes === undefined ? undefined : await readAllNodes(await readInput(flags.nodes, 'the nodes', () => io.readStdin()));
        const refs = workloads.flatMap((w) => w.containers.map((c) => c.reference));
        const [first, ...others] = refs;
        if (first === undefined) throw new ManifestError('INVALID_INPUT', 'the workloads name no image');
        const [{ checkWorkloads }, output, terminal] = await Promise.all([import('../../manifest/check.js'), import('../check-output.js'), import('../terminal.js')]);
        const progress = terminal.progressLine(options, io, 'reading images', new Set(refs.map((r) => r.toString())).size);
        const result = await checkWorkloads(workloads, {
          client: await client(first, others),
          signal,
          concurrency: flags.concurrency,
          ...(platforms === undefined ? {} : { platforms }),
          ...(nodes === undefined ? {} : { nodes }),
          ...(progress === undefined ? {} : { progress: progress.sink }),
        }).finally(() => progress?.finish());
        if (flags.json === true) {
          io.stdout(output.renderCheckJson(result, platforms === undefined ? { nodes: nodes?.length ?? 0 } : { platforms: flags.platforms ?? [] }));
        } else {
          io.stdout(output.renderCheckText(result, nodes !== undefined, terminal.colorsFor(options, io, 'stdout')));
        }
        // Each image that could not be read is reported once; the first one's code is the exit code.
        let code: number | undefined;
        for (const image of result.images) {
          if (image.error === undefined) continue;
          const c = report(image.error);
          code ??= c;
        }
        if (code !== undefined) throw new ReportedFailure(code);
        if (result.missing > 0) {
          io.stderr(`manifest: ${result.missing} container${result.missing === 1 ? '' : 's'} run${result.missing === 1 ? 's' : ''} an image that lacks a platform ${nodes === undefined ? 'it needs' : 'of its nodes'}\n`);
          throw new ReportedFailure(EXIT_MISSING_PLATFORMS);
        }
      });
    });
}
