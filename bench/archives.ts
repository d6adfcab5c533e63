// Archive push: four per-platform docker archives (nix `streamLayeredImage` style: a plain tar, each layer an
// uncompressed tar), each of 4 layers of 16 MiB, pushed as one multi-platform tag by `manifest push archives DIR`
// against `skopeo copy docker-archive:FILE docker://…` of each archive one by one plus a `manifest pushml` of the
// list over them (what a user without `push archives` runs). Both compress every layer (gzip). Wall time, start-up
// included, and peak RSS from /usr/bin/time (for skopeo, the largest of its four processes). Every invocation
// pushes to a registry B started for it alone (skopeo's blob-info cache would otherwise mount instead of copying).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { startRegistry } from '../test/helpers/registry.js';
import type { TestRegistry } from '../test/helpers/registry.js';
import { freshEnvironment, manifestBin, runChecked } from './process.js';
import type { BenchContext, Scenario, ScenarioResult, Target } from './scenario.js';
import { specYaml } from './specs.js';
import { formatMb, summarise } from './stats.js';
import type { Sample } from './stats.js';
import { PUSH_TIMEOUT_MS, manifestPushml, writeSpec } from './tools.js';
import { prepareSkopeoEnvironment } from '../test/helpers/skopeo.js';
import type { Timed } from './process.js';
import { fetchManifest, sha256 } from './verify.js';

const MIB = 1024 * 1024;
const LAYERS = 4;
const LAYER_BYTES = 16 * MIB;
const RSS_LIMIT_MB = 150;
const PLATFORMS = [
  { file: 'linux.amd64.tar', os: 'linux', architecture: 'amd64' },
  { file: 'linux.arm64.tar', os: 'linux', architecture: 'arm64' },
  { file: 'linux.arm.v7.tar', os: 'linux', architecture: 'arm', variant: 'v7' },
  { file: 'linux.s390x.tar', os: 'linux', architecture: 's390x' },
] as const;

/** A layer's content: half random, half repeated text, so gzip has work to do and something to gain. */
function layerContent(): Buffer {
  const half = LAYER_BYTES / 2;
  return Buffer.concat([randomBytes(half), Buffer.alloc(half, 'compressible text of a layer\n')]);
}

/** Writes a tar of `members` to `path`, streamed. */
async function writeTar(path: string, members: readonly { name: string; body: Buffer }[]): Promise<void> {
  const tar = pack();
  const written = pipeline(tar, createWriteStream(path));
  for (const m of members) tar.entry({ name: m.name, size: m.body.length, mtime: new Date(0) }, m.body);
  tar.finalize();
  await written;
}

/** Writes the four archives into `dir`; returns the uncompressed bytes of all their layers. */
async function writeArchives(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  let bytes = 0;
  for (const platform of PLATFORMS) {
    const layers: Buffer[] = [];
    for (let i = 0; i < LAYERS; i++) {
      const layerTar = pack();
      const chunks: Buffer[] = [];
      layerTar.on('data', (c: unknown) => { chunks.push(c as Buffer); });
      const done = new Promise<void>((resolve) => { layerTar.on('end', () => { resolve(); }); });
      layerTar.entry({ name: `data/${i}.bin`, size: LAYER_BYTES, mtime: new Date(0) }, layerContent());
      layerTar.finalize();
      await done;
      layers.push(Buffer.concat(chunks));
    }
    bytes += layers.reduce((n, l) => n + l.length, 0);
    const { file, ...fields } = platform;
    const config = Buffer.from(JSON.stringify({ ...fields, config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${digest(l)}`) } }));
    const layerNames = layers.map((l) => `${digest(l)}/layer.tar`);
    await writeTar(join(dir, file), [
      { name: 'manifest.json', body: Buffer.from(JSON.stringify([{ Config: `${digest(config)}.json`, RepoTags: [`bench:${fields.architecture}`], Layers: layerNames }])) },
      { name: `${digest(config)}.json`, body: config },
      ...layers.map((body, i) => ({ name: layerNames[i] as string, body })),
    ]);
  }
  return bytes;
}

function rssOf(samples: readonly Sample[]): number | undefined {
  const values = samples.map((s) => s.maxRssKiB).filter((v): v is number => v !== undefined);
  return values.length === 0 ? undefined : Math.max(...values);
}

async function manifestOnce(context: BenchContext, b: TestRegistry, dir: string, bytes: number): Promise<Sample> {
  const target = `${b.host}/archives/manifest:1`;
  const timed = await runChecked(process.execPath, [manifestBin, '--plain-http', 'push', 'archives', '--target', target, dir], {
    env: await freshEnvironment(context.scratch),
    timeoutMs: PUSH_TIMEOUT_MS * 3,
    measureRss: context.tools.gnuTime,
    scratch: context.scratch,
  });
  const digest = /^Digest: (sha256:[0-9a-f]{64})/.exec(timed.stdout)?.[1];
  const list = await fetchManifest(b, 'archives/manifest', '1');
  if (digest === undefined || sha256(list) !== digest) throw new Error(`push archives printed ${digest ?? 'no digest'}, the tag is ${sha256(list)}`);
  return { ms: timed.ms, bytes, ...(timed.maxRssKiB !== undefined && { maxRssKiB: timed.maxRssKiB }) };
}

/** `skopeo copy docker-archive:FILE docker://DEST`, with a private policy and auth file. */
async function runSkopeoArchive(context: BenchContext, file: string, destination: string): Promise<Timed> {
  const env = await freshEnvironment(context.scratch);
  const skopeo = await prepareSkopeoEnvironment(env['HOME'] ?? context.scratch);
  return runChecked('skopeo', ['--policy', skopeo.policyFile, 'copy', '--dest-tls-verify=false', `docker-archive:${file}`, `docker://${destination}`], {
    env: skopeo.env,
    timeoutMs: PUSH_TIMEOUT_MS * 2,
    measureRss: context.tools.gnuTime,
    scratch: context.scratch,
  });
}

async function skopeoOnce(context: BenchContext, b: TestRegistry, dir: string, bytes: number): Promise<Sample> {
  let ms = 0;
  let rss: number | undefined;
  const parts: Record<string, number> = {};
  for (const platform of PLATFORMS) {
    const copied = await runSkopeoArchive(context, join(dir, platform.file), `${b.host}/archives/skopeo:${platform.architecture}${'variant' in platform ? platform.variant : ''}`);
    ms += copied.ms;
    parts[platform.architecture] = copied.ms;
    if (copied.maxRssKiB !== undefined) rss = Math.max(rss ?? 0, copied.maxRssKiB);
  }
  const spec = await writeSpec(join(context.scratch, 'specs'), 'archives-skopeo.yaml', specYaml(`${b.host}/archives/skopeo:1`, PLATFORMS.map((p) => ({ image: `${b.host}/archives/skopeo:${p.architecture}${'variant' in p ? p.variant : ''}` }))));
  const list = await manifestPushml(context.scratch, [spec], { measureRss: context.tools.gnuTime });
  ms += list.timed.ms;
  parts['list'] = list.timed.ms;
  return { ms, bytes, parts, ...(rss !== undefined && { maxRssKiB: rss }) };
}

async function runArchives(context: BenchContext): Promise<ScenarioResult> {
  const dir = join(context.scratch, 'archives');
  context.progress(`archives: writing ${PLATFORMS.length} docker archives of ${LAYERS} × ${LAYER_BYTES / MIB} MiB uncompressed layers`);
  const bytes = await writeArchives(dir);
  const tools = context.tools.skopeo === undefined ? ['manifest'] as const : ['manifest', 'skopeo'] as const;
  const samples = new Map<string, Sample[]>(tools.map((t) => [t, []]));
  for (let i = 0; i < context.warmUps + context.runs; i++) {
    const measured = i >= context.warmUps;
    const order = i % 2 === 0 ? [...tools] : [...tools].reverse();
    for (const tool of order) {
      context.progress(`archives: ${measured ? `run ${i - context.warmUps + 1}/${context.runs}` : 'warm-up'} ${tool}`);
      const b = await startRegistry('plain');
      try {
        const sample = tool === 'manifest' ? await manifestOnce(context, b, dir, bytes) : await skopeoOnce(context, b, dir, bytes);
        if (measured) samples.get(tool)?.push(sample);
      } finally {
        await b.stop();
      }
    }
  }
  const shape = `${PLATFORMS.length} archives × ${LAYERS} × ${LAYER_BYTES / MIB} MiB`;
  const ours = summarise('archives.manifest', `manifest push archives DIR (${shape})`, samples.get('manifest') ?? []);
  const theirs = context.tools.skopeo === undefined
    ? summarise('archives.skopeo', `skopeo copy docker-archive: ×${PLATFORMS.length} + pushml (${shape})`, [], 'not installed')
    : summarise('archives.skopeo', `skopeo copy docker-archive: ×${PLATFORMS.length} + pushml (${shape})`, samples.get('skopeo') ?? []);
  const targets: Target[] = [];
  targets.push(theirs.samples.length === 0
    ? { scenario: 'archives', title: `push ${shape}: time vs skopeo one by one + list`, measured: `skopeo ${theirs.note ?? 'not measured'}`, unit: '×' }
    : { scenario: 'archives', title: `push ${shape}: time vs skopeo one by one + list`, measured: `${ours.medianMs.toFixed(0)} ms / ${theirs.medianMs.toFixed(0)} ms`, value: ours.medianMs / theirs.medianMs, unit: '×', goal: { comparison: '≤', limit: 1 } });
  const rss = rssOf(ours.samples);
  targets.push({
    scenario: 'archives',
    title: `push ${shape}: peak RSS of manifest`,
    measured: rss === undefined ? 'not measured (no /usr/bin/time)' : `${formatMb(rss)} (skopeo ${formatMb(rssOf(theirs.samples))})`,
    ...(rss !== undefined && { value: (rss * 1024) / 1e6 }),
    unit: 'MB',
    goal: { comparison: '≤', limit: RSS_LIMIT_MB },
    note: 'largest of the measured runs',
  });
  const note = `archives: ${(bytes / 1e6).toFixed(0)} MB of uncompressed layers per push, each to an empty registry B; both tools gzip every layer`;
  return { series: [ours, theirs], targets, traces: [], notes: [note] };
}

export const archivesScenario: Scenario = {
  name: 'archives',
  description: `push of ${PLATFORMS.length} docker archives (${LAYERS} × ${LAYER_BYTES / MIB} MiB uncompressed layers) vs skopeo copy of each + a list push: time and peak RSS`,
  run: runArchives,
};

/**
 * Writes one docker archive (plain tar) whose single layer is a tar of one file of `bytes` bytes, streamed: the
 * layer is written to a file first (hashed on the way, for its diff_id), then copied into the archive.
 */
async function writeBigArchive(dir: string, bytes: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const layerPath = join(dir, 'layer.tar');
  const chunk = layerContent().subarray(0, MIB);
  const layer = pack();
  const hash = createHash('sha256');
  layer.on('data', (c: unknown) => { hash.update(c as Buffer); });
  const layerWritten = pipeline(layer, createWriteStream(layerPath));
  const entry = layer.entry({ name: 'data/big.bin', size: bytes, mtime: new Date(0) });
  await pipeline(Readable.from((function* () { for (let n = 0; n < bytes; n += MIB) yield chunk.subarray(0, Math.min(MIB, bytes - n)); })()), entry);
  layer.finalize();
  await layerWritten;
  const diffId = `sha256:${hash.digest('hex')}`;
  const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } }));
  const file = join(dir, 'linux.amd64.tar');
  const outer = pack();
  const written = pipeline(outer, createWriteStream(file));
  outer.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: 'config.json', RepoTags: ['bench:big'], Layers: ['big/layer.tar'] }]));
  outer.entry({ name: 'config.json' }, config);
  await pipeline(createReadStream(layerPath), outer.entry({ name: 'big/layer.tar', size: (await stat(layerPath)).size, mtime: new Date(0) }));
  outer.finalize();
  await written;
  await rm(layerPath);
  return file;
}

async function runBigArchive(context: BenchContext): Promise<ScenarioResult> {
  const mib = Math.round(context.bigBlobBytes / MIB);
  context.progress(`bigarchive: writing a docker archive with one uncompressed ${mib} MiB layer`);
  const file = await writeBigArchive(join(context.scratch, 'bigarchive'), context.bigBlobBytes);
  const samples: Sample[] = [];
  for (let i = 0; i < context.warmUps + context.runs; i++) {
    context.progress(`bigarchive: ${i >= context.warmUps ? `run ${i - context.warmUps + 1}/${context.runs}` : 'warm-up'} manifest`);
    const b = await startRegistry('plain');
    try {
      const sample = await manifestOnce(context, b, file, context.bigBlobBytes);
      if (i >= context.warmUps) samples.push(sample);
    } finally {
      await b.stop();
    }
  }
  const ours = summarise('bigarchive.manifest', `manifest push archives, one ${mib} MiB uncompressed layer`, samples);
  const rss = rssOf(samples);
  return {
    series: [ours],
    targets: [{
      scenario: 'bigarchive',
      title: `push archives, one ${mib} MiB layer: peak RSS of manifest`,
      measured: rss === undefined ? 'not measured (no /usr/bin/time)' : formatMb(rss),
      ...(rss !== undefined && { value: (rss * 1024) / 1e6 }),
      unit: 'MB',
      goal: { comparison: '≤', limit: RSS_LIMIT_MB },
      note: 'largest of the measured runs; --big-blob-mib sets the layer size (1024 for the 1 GiB of the issue)',
    }],
    traces: [],
    notes: [`bigarchive: the layer is compressed from the archive to a temporary file and uploaded from there, never held in memory`],
  };
}

export const bigArchiveScenario: Scenario = {
  name: 'bigarchive',
  description: 'push archives of one docker archive with one big uncompressed layer (--big-blob-mib, default 200): peak RSS',
  run: runBigArchive,
};
