// Cross-registry copy: an image on registry A pushed to registry B (both plain HTTP on loopback, no proxy) by
// `manifest pushml` with one entry sourced from A and the target on B (which streams every blob from A to B and
// then pushes a one-entry list, and tag, and reads it back) against `skopeo copy` of the image alone. Throughput is
// the image's blob bytes over wall time, start-up included; peak RSS from /usr/bin/time. Every invocation copies
// to a registry B started for it alone: skopeo keeps a blob-info cache across runs (for root in
// /var/lib/containers/cache) and, told by it that B already holds a blob in another repository, mounts it
// instead of copying (200 MiB in 40 ms); on an empty registry both tools must move every byte.
//  - copy: 10 layers of 1 MiB;
//  - bigblob: one layer of --big-blob-mib (default 200 MiB), for "peak RSS ≤ 150 MB for any blob size".
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.js';
import type { TestRegistry } from '../test/helpers/registry.js';
import type { BenchContext, Scenario, ScenarioResult, Target } from './scenario.js';
import { exitFloorSeries, probeExitFloor } from './exit-floor.js';
import { seedLargeImage } from './seed-large-image.js';
import type { LargeImage } from './seed-large-image.js';
import { specYaml } from './specs.js';
import { formatMb, summarise } from './stats.js';
import type { Sample, Series } from './stats.js';
import { PUSH_TIMEOUT_MS, manifestPushml, manifestSample, skopeoCopy, writeSpec } from './tools.js';
import { fetchManifest, hasBlob, sha256 } from './verify.js';

const MIB = 1024 * 1024;
const RSS_LIMIT_MB = 150;
const SOURCE_PLATFORM = { os: 'linux', architecture: 'amd64' };

type Copier = 'manifest' | 'skopeo';

interface CopyPlan {
  scenario: string;
  /** What is copied, for labels: "10 × 1 MiB". */
  shape: string;
  layerSizes: number[];
}

/** Checks that every blob of the image is in B's repository. */
async function checkBlobs(b: TestRegistry, repository: string, image: LargeImage): Promise<void> {
  for (const blob of image.blobs) {
    if (!(await hasBlob(b, repository, blob.digest))) throw new Error(`${b.host}/${repository} lacks blob ${blob.digest} after the copy`);
  }
}

/** manifest's copy is a one-entry list on B whose entry is the source image, byte for byte. */
async function checkManifestCopy(b: TestRegistry, repository: string, image: LargeImage, digest: string): Promise<void> {
  const listBytes = await fetchManifest(b, repository, '1');
  if (sha256(listBytes) !== digest) throw new Error(`${repository}:1 is ${sha256(listBytes)}, manifest printed ${digest}`);
  const list = JSON.parse(Buffer.from(listBytes).toString('utf8')) as { manifests?: { digest?: string }[] };
  if (list.manifests?.length !== 1 || list.manifests[0]?.digest !== image.digest) {
    throw new Error(`${repository}:1 should list exactly ${image.digest}: ${Buffer.from(listBytes).toString('utf8')}`);
  }
  const child = await fetchManifest(b, repository, image.digest);
  if (sha256(child) !== image.digest) throw new Error(`${repository}@${image.digest} has other bytes`);
  await checkBlobs(b, repository, image);
}

async function copyOnce(context: BenchContext, a: TestRegistry, b: TestRegistry, image: LargeImage, copier: Copier, label: string, plan: CopyPlan, extraEnv: NodeJS.ProcessEnv = {}): Promise<Sample> {
  const repository = `${plan.scenario}/${copier}-${label}`;
  const source = `${a.host}/${image.repository}:${image.tag}`;
  const measureRss = context.tools.gnuTime;
  if (copier === 'manifest') {
    const spec = await writeSpec(join(context.scratch, 'specs'), `${repository.replace('/', '-')}.yaml`, specYaml(`${b.host}/${repository}:1`, [{ image: source }]));
    const { timed, lines } = await manifestPushml(context.scratch, [spec], { measureRss, timeoutMs: PUSH_TIMEOUT_MS * 3, extraEnv });
    await checkManifestCopy(b, repository, image, lines[0]?.digest ?? '');
    return manifestSample(timed, { bytes: image.bytes, ...(timed.maxRssKiB !== undefined && { maxRssKiB: timed.maxRssKiB }) });
  }
  const timed = await skopeoCopy(context.scratch, source, `${b.host}/${repository}:1`, measureRss);
  // skopeo copies the image as it is (no list); its manifest may be rewritten, but every blob must arrive.
  await fetchManifest(b, repository, '1');
  await checkBlobs(b, repository, image);
  return { ms: timed.ms, bytes: image.bytes, ...(timed.maxRssKiB !== undefined && { maxRssKiB: timed.maxRssKiB }) };
}

async function runCopy(context: BenchContext, plan: CopyPlan): Promise<ScenarioResult> {
  const a = context.registry;
  context.progress(`${plan.scenario}: seeding a ${plan.shape} image on registry A`);
  const image = await seedLargeImage(a, `${plan.scenario}/source`, '1', plan.layerSizes, SOURCE_PLATFORM);
  const copiers: Copier[] = context.tools.skopeo === undefined ? ['manifest'] : ['manifest', 'skopeo'];
  const samples = new Map<Copier, Sample[]>(copiers.map((c) => [c, []]));
  // Untimed: ours with the exit-RSS probe, for the floor of its last output to exit.
  const exitFloor = await probeExitFloor(context, plan.scenario, async (env) => {
    const probed = await startRegistry('plain');
    try {
      await copyOnce(context, a, probed, image, 'manifest', 'probe', plan, env);
    } finally {
      await probed.stop();
    }
  }, { measureRss: context.tools.gnuTime });
  for (let i = 0; i < context.warmUps + context.runs; i++) {
    const measured = i >= context.warmUps;
    const order = i % 2 === 0 ? copiers : [...copiers].reverse();
    for (const copier of order) {
      context.progress(`${plan.scenario}: ${measured ? `run ${i - context.warmUps + 1}/${context.runs}` : 'warm-up'} ${copier}`);
      // Started outside the timed part, stopped (its storage removed) before the next copy.
      const b = await startRegistry('plain');
      try {
        const sample = await copyOnce(context, a, b, image, copier, String(i), plan);
        if (measured) samples.get(copier)?.push(sample);
        if (measured && copier === 'manifest') await exitFloor?.run();
      } finally {
        await b.stop();
      }
    }
  }
  const series: Series[] = [
    summarise(`${plan.scenario}.manifest`, `manifest pushml, one entry copied A → B (${plan.shape})`, samples.get('manifest') ?? []),
    context.tools.skopeo === undefined
      ? summarise(`${plan.scenario}.skopeo`, `skopeo copy A → B (${plan.shape})`, [], 'not installed')
      : summarise(`${plan.scenario}.skopeo`, `skopeo copy A → B (${plan.shape})`, samples.get('skopeo') ?? []),
    exitFloorSeries(exitFloor, `${plan.scenario}.exit-floor`, 'ours'),
  ];
  const note = `${plan.scenario}: ${(image.bytes / 1e6).toFixed(1)} MB of blobs per copy, each to an empty registry B; manifest also pushes a one-entry list and its tag and reads them back, skopeo copies the image alone`;
  return { series, targets: copyTargets(plan, series), traces: [], notes: [note] };
}

function copyTargets(plan: CopyPlan, [ours, skopeo]: Series[]): Target[] {
  const targets: Target[] = [];
  if (ours === undefined) return targets;
  // Issue 13: small blobs at 0.8× skopeo's pace (we also push a list and read it back), one big blob at its pace.
  const throughputGoal = { goal: { comparison: '≥' as const, limit: plan.scenario === 'copy' ? 0.8 : 1.0 } };
  if (skopeo === undefined || skopeo.mbPerSecond === undefined || ours.mbPerSecond === undefined) {
    targets.push({ scenario: plan.scenario, title: `copy ${plan.shape}: throughput vs skopeo copy`, measured: `skopeo ${skopeo?.note ?? 'not measured'}`, unit: '×', ...throughputGoal });
  } else {
    targets.push({
      scenario: plan.scenario,
      title: `copy ${plan.shape}: throughput vs skopeo copy`,
      measured: `${ours.mbPerSecond.toFixed(1)} MB/s / ${skopeo.mbPerSecond.toFixed(1)} MB/s`,
      value: ours.mbPerSecond / skopeo.mbPerSecond,
      unit: '×',
      ...throughputGoal,
    });
  }
  const rss = ours.maxRssKiB;
  targets.push({
    scenario: plan.scenario,
    title: `copy ${plan.shape}: peak RSS of manifest`,
    measured: rss === undefined ? 'not measured (no /usr/bin/time)' : `${formatMb(rss)} (skopeo ${formatMb(skopeo?.maxRssKiB)})`,
    ...(rss !== undefined && { value: (rss * 1024) / 1e6 }),
    unit: 'MB',
    goal: { comparison: '≤', limit: RSS_LIMIT_MB },
    note: 'largest of the measured runs',
  });
  return targets;
}

export const copyScenario: Scenario = {
  name: 'copy',
  description: 'cross-registry copy of a 10 × 1 MiB image vs skopeo copy: throughput and peak RSS',
  run: (context) => runCopy(context, { scenario: 'copy', shape: '10 × 1 MiB', layerSizes: Array.from({ length: 10 }, () => MIB) }),
};

export const bigBlobScenario: Scenario = {
  name: 'bigblob',
  description: 'cross-registry copy of one big layer (--big-blob-mib, default 200) vs skopeo copy: peak RSS',
  run: (context) => runCopy(context, { scenario: 'bigblob', shape: `1 × ${Math.round(context.bigBlobBytes / MIB)} MiB`, layerSizes: [context.bigBlobBytes] }),
};
