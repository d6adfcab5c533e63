/**
 * Text for humans and JSON for scripts, from library results. The text layout follows manifest-tool's
 * `inspect`: right-aligned labels, entries numbered in the margin, one line per layer.
 */
import { exitCodeOf, isManifestError } from '../errors.js';
import type { InspectedEntry, InspectedImage, InspectResult } from '../manifest/inspect.js';
import type { PartialPushError, PushResult } from '../manifest/push.js';
import type { PushSpec } from '../spec/types.js';
import { formatPlatform, type Platform } from '../platform.js';

const LABEL_WIDTH = 14;

/** Replaces control characters (terminal escapes a hostile registry could plant) with "?", keeping newlines. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, '?');
}

/**
 * Replaces control characters and newlines with "?": for a message or log line, which quotes input (a reference,
 * a YAML key) that could otherwise start a line of its own ("manifest: …") that the program never wrote.
 */
export function printableLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

function line(prefix: string, label: string, value?: string | number): string {
  return `${prefix}${label.padStart(LABEL_WIDTH)}${value === undefined || value === '' ? '' : ` ${value}`}`;
}

/** A line under a heading: "- LABEL: value", labels right-aligned to 8 characters (manifest-tool's). */
function sub(prefix: string, label: string, value: string | undefined): string {
  return `${prefix}${' '.repeat(LABEL_WIDTH - 3)}- ${label.padStart(8)}${value ? ` ${value}` : ''}`;
}

function platformLines(prefix: string, platform: Platform | undefined): string[] {
  const lines = [
    line(prefix, 'Platform:'),
    sub(prefix, 'OS:', platform?.os),
    sub(prefix, 'Arch:', platform?.architecture),
    sub(prefix, 'Variant:', platform?.variant),
    sub(prefix, 'Feature:', platform?.features?.join(',')),
  ];
  // manifest-tool's short labels keep Windows' lines aligned with the others.
  if (platform?.['os.version'] !== undefined) lines.push(sub(prefix, 'OS Vers:', platform['os.version']));
  if (platform?.['os.features'] !== undefined) lines.push(sub(prefix, 'OS Feat:', platform['os.features'].join(',')));
  return lines;
}

/** Annotations, one "- key: value" line each under a heading, keys sorted. */
function annotationLines(prefix: string, annotations: Record<string, string> | undefined): string[] {
  if (annotations === undefined || Object.keys(annotations).length === 0) return [];
  return [
    line(prefix, 'Annotations:'),
    ...Object.keys(annotations).sort().map((key) => `${prefix}${' '.repeat(LABEL_WIDTH - 3)}- ${key}: ${annotations[key] ?? ''}`),
  ];
}

/** What --expand-config adds: the config's creation time, entrypoint, command, environment, labels and os.version. */
function configLines(prefix: string, image: InspectedImage): string[] {
  const details = image.configDetails;
  if (details === undefined) return [];
  const lines: string[] = [];
  const many = (label: string, values: readonly string[] | undefined): void => {
    values?.forEach((value, i) => lines.push(line(prefix, i === 0 ? label : '', value)));
  };
  if (details.created !== undefined) lines.push(line(prefix, 'Created:', details.created));
  if (details.entrypoint !== undefined) lines.push(line(prefix, 'Entrypoint:', JSON.stringify(details.entrypoint)));
  if (details.cmd !== undefined) lines.push(line(prefix, 'Cmd:', JSON.stringify(details.cmd)));
  many('Env:', details.env);
  many('Labels:', details.labels === undefined ? undefined : Object.keys(details.labels).sort().map((key) => `${key}=${details.labels?.[key] ?? ''}`));
  if (details['os.version'] !== undefined) lines.push(line(prefix, 'OS Version:', details['os.version']));
  return lines;
}

function layerLines(prefix: string, image: InspectedImage): string[] {
  return [
    ...configLines(prefix, image),
    line(prefix, '# Layers:', image.layers.length),
    ...image.layers.map((layer, i) => `${' '.repeat(prefix.length + 8)}layer ${i + 1}: digest = ${layer.digest}`),
  ];
}

function entryLines(entry: InspectedEntry, index: number, width: number, entries: readonly InspectedEntry[]): string[] {
  const prefix = String(index + 1).padEnd(width);
  const lines = [
    line(prefix, 'Mfst Type:', entry.mediaType),
    line(prefix, 'Digest:', entry.digest),
    line(prefix, 'Mfst Length:', entry.size),
    ...platformLines(prefix, entry.platform),
    ...annotationLines(prefix, entry.annotations),
  ];
  if (entry.attestationFor !== undefined) {
    // Say which entry of this list the attestation describes, by its number and platform.
    const subject = entries.findIndex((e) => e.digest === entry.attestationFor && e.attestationFor === undefined);
    const described = subject < 0 ? `image ${entry.attestationFor} (not in this list)` : `entry ${subject + 1} (${formatPlatform(entries[subject]?.platform)}), ${entry.attestationFor}`;
    lines.push(line(prefix, 'Attestation:', `for ${described}`));
  }
  if (entry.image !== undefined) lines.push(...layerLines(prefix, entry.image));
  if (entry.entries !== undefined) lines.push(line(prefix, '# Entries:', entry.entries));
  return lines;
}

/** Renders an inspection as text in manifest-tool's layout. */
export function renderInspectText(result: InspectResult): string {
  const count = result.manifests?.length ?? 0;
  const width = Math.max(1, String(count).length);
  const margin = ' '.repeat(width);
  const out = [
    line(margin, 'Name:', result.reference),
    line(margin, 'Mfst Type:', result.mediaType),
    line(margin, 'Digest:', result.digest),
    line(margin, 'Mfst Length:', result.size),
  ];
  if (result.resolvedFrom !== undefined) out.push(line(margin, 'From List:', result.resolvedFrom.digest));
  out.push(...annotationLines(margin, result.annotations));
  out.push('');
  if (result.kind === 'list') {
    out.push(`${result.reference} is a manifest list containing the following ${count} manifest reference${count === 1 ? '' : 's'}:`);
    const entries = result.manifests ?? [];
    entries.forEach((entry, i) => out.push(...entryLines(entry, i, width, entries), ''));
  } else if (result.image !== undefined) {
    out.push(result.resolvedFrom === undefined
      ? `${result.reference} is an image manifest:`
      : `${result.reference} resolves for ${formatPlatform(result.image.platform)} to this image manifest:`);
    out.push(line(margin, 'Config:', result.image.config.digest));
    out.push(...platformLines(margin, result.image.platform));
    out.push(...layerLines(margin, result.image), '');
  }
  const text = out.join('\n');
  return printable(text.endsWith('\n') ? text : `${text}\n`);
}

/** Returns a platform with its keys in one fixed order (registries send them in any order). */
function platformJson(platform: Platform | undefined): Platform | undefined {
  if (platform === undefined) return undefined;
  const { os, architecture, variant, features } = platform;
  return {
    os,
    architecture,
    ...(variant === undefined ? {} : { variant }),
    ...(platform['os.version'] === undefined ? {} : { 'os.version': platform['os.version'] }),
    ...(platform['os.features'] === undefined ? {} : { 'os.features': platform['os.features'] }),
    ...(features === undefined ? {} : { features }),
  };
}

/** Renders an inspection as one JSON document (the raw bytes are left out: --raw prints those). */
export function renderInspectJson(result: InspectResult): string {
  const doc: Record<string, unknown> = {
    name: result.name,
    reference: result.reference,
    kind: result.kind,
    mediaType: result.mediaType,
    digest: result.digest,
    size: result.size,
  };
  if (result.resolvedFrom !== undefined) doc.resolvedFrom = result.resolvedFrom;
  if (result.annotations !== undefined) doc.annotations = result.annotations;
  if (result.manifests !== undefined) doc.manifests = result.manifests.map((m) => ({ ...m, platform: platformJson(m.platform) }));
  if (result.image !== undefined) {
    if (result.image.platform !== undefined) doc.platform = platformJson(result.image.platform);
    doc.config = result.image.config;
    doc.layers = result.image.layers;
    if (result.image.configDetails !== undefined) doc.configDetails = result.image.configDetails;
  }
  return `${safeJson(doc)}\n`;
}

/** Serialises for a terminal: JSON.stringify escapes C0 controls; DEL and C1 are escaped too. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Tells whether an error is a PartialPushError, without loading the push module (render stays light for --help). */
function isPartialPushError(err: unknown): err is PartialPushError {
  return isManifestError(err) && err.code === 'PARTIAL' && 'result' in err && 'failedTags' in err;
}

/** Returns a failure as --json reports it: its code, exit code and message. */
export function errorJson(err: unknown): { code: string; exitCode: number; message: string } {
  return isManifestError(err)
    ? { code: err.code, exitCode: exitCodeOf(err.code), message: err.message }
    : { code: 'INTERNAL', exitCode: 1, message: err instanceof Error ? err.message : String(err) };
}

/** A spec of a batch that failed, for the JSON report. */
export interface FailedPush {
  spec: PushSpec;
  error: unknown;
}

function pushDocument(outcome: PushResult | FailedPush): Record<string, unknown> {
  if ('error' in outcome) {
    const err = outcome.error;
    const error = errorJson(err);
    // A partial push says what is in the registry: the list, the tags set, and those still as they were.
    if (isPartialPushError(err)) return { ...pushDocument(err.result), failedTags: err.failedTags, error };
    return { name: outcome.spec.target.original, reference: outcome.spec.target.toString(), error };
  }
  return {
    name: outcome.name,
    reference: outcome.reference,
    digest: outcome.digest,
    size: outcome.size,
    mediaType: outcome.mediaType,
    tags: outcome.tags,
    pushedTags: outcome.pushedTags,
    unchangedTags: outcome.unchangedTags,
    dryRun: outcome.dryRun,
    verified: outcome.verified,
    manifests: outcome.entries.map((e) => ({ ...e, ...(e.platform === undefined ? {} : { platform: platformJson(e.platform) }) })),
    ...(outcome.skipped.length === 0 ? {} : { skipped: outcome.skipped }),
    copiedManifests: outcome.copiedManifests,
    blobs: outcome.blobs,
    ...(outcome.dryRun ? { list: JSON.parse(new TextDecoder().decode(outcome.bytes)) as unknown } : {}),
  };
}

/** Renders push results as JSON: one object for a single spec, an array for a batch (failures carry `error`). */
export function renderPushJson(outcomes: readonly (PushResult | FailedPush)[], batch: boolean): string {
  const docs = outcomes.map(pushDocument);
  return safeJson(batch ? docs : docs[0]);
}
