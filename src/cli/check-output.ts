/** `manifest check`'s output: a table for people, one JSON document (schemas/check.schema.json) for scripts. */
import { clipInput } from '../errors.js';
import type { CheckedContainer, CheckedWorkload, CheckResult } from '../manifest/check.js';
import { formatPlatform } from '../platform.js';
import { errorJson, safeJson } from './render.js';
import type { Colors } from './terminal.js';

/** Most node names listed in a table cell; the rest are counted. */
const NODES_SHOWN = 4;

function workloadLabel(w: Pick<CheckedWorkload, 'kind' | 'name' | 'namespace'>): string {
  return `${w.kind} ${w.namespace === undefined ? '' : `${w.namespace}/`}${w.name}`;
}

function containerLabel(c: CheckedContainer): string {
  return c.type === 'container' ? c.name : `${c.name} (${c.type === 'initContainer' ? 'init' : 'ephemeral'})`;
}

function nodesCell(names: readonly string[]): string {
  if (names.length === 0) return '-';
  const shown = names.slice(0, NODES_SHOWN).join(',');
  return names.length > NODES_SHOWN ? `${shown} +${names.length - NODES_SHOWN} more` : shown;
}

/** Quotes YAML-given text for a cell: one line, escaped, bounded. */
function cell(text: string): string {
  return clipInput(text, 200);
}

/**
 * Renders the table: one row per container (WORKLOAD, CONTAINER, IMAGE, MISSING, NODES), "ok" where the image
 * covers every platform the workload needs; a workload no node would run is named, with no containers checked.
 */
export function renderCheckText(result: CheckResult, withNodes: boolean, colors?: Colors): string {
  const rows: string[][] = [['WORKLOAD', 'CONTAINER', 'IMAGE', 'MISSING', ...(withNodes ? ['NODES'] : [])]];
  for (const w of result.workloads) {
    if (w.platforms.length === 0) {
      rows.push([cell(workloadLabel(w)), '-', '-', withNodes ? 'runs on no node' : 'runs on none of the platforms', ...(withNodes ? ['-'] : [])]);
      continue;
    }
    for (const c of w.containers) {
      const missing = c.error !== undefined ? `error: ${c.error.code.toLowerCase().replaceAll('_', ' ')}` : c.missing.length === 0 ? 'ok' : c.missing.map(formatPlatform).join(',');
      rows.push([cell(workloadLabel(w)), cell(containerLabel(c)), cell(c.image), missing, ...(withNodes ? [cell(nodesCell(c.error === undefined ? c.nodesAffected : []))] : [])]);
    }
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  // Colour is added after padding: escape sequences take no room on the screen.
  const paint = (v: string, i: number, row: number): string => {
    if (colors === undefined || i !== 3 || row === 0) return v;
    return v.startsWith('ok') ? colors.green(v) : colors.red(v);
  };
  return `${rows.map((r, row) => r.map((v, i) => paint(i === r.length - 1 ? v : v.padEnd(widths[i] ?? 0), i, row)).join('  ')).join('\n')}\n`;
}

/** Renders the result as one JSON document (schemas/check.schema.json). */
export function renderCheckJson(result: CheckResult, needs: { platforms?: readonly string[]; nodes?: number }): string {
  return `${safeJson({
    ok: result.missing === 0 && result.failed === 0,
    missing: result.missing,
    failed: result.failed,
    needs,
    workloads: result.workloads.map((w) => ({
      kind: w.kind,
      name: w.name,
      ...(w.namespace === undefined ? {} : { namespace: w.namespace }),
      file: w.file,
      line: w.line,
      platforms: w.platforms.map(formatPlatform),
      ...(w.nodes === undefined ? {} : { nodes: w.nodes }),
      containers: w.containers.map((c) => ({
        name: c.name,
        type: c.type,
        image: c.image,
        reference: c.reference,
        line: c.line,
        missing: c.missing.map(formatPlatform),
        ...(w.nodes === undefined ? {} : { nodesAffected: c.nodesAffected }),
        ...(c.error === undefined ? {} : { error: errorJson(c.error) }),
      })),
    })),
    images: result.images.map((i) => ({
      image: i.image,
      reference: i.reference,
      ...(i.kind === undefined ? {} : { kind: i.kind }),
      ...(i.digest === undefined ? {} : { digest: i.digest }),
      platforms: i.platforms.map(formatPlatform),
      ...(i.error === undefined ? {} : { error: errorJson(i.error) }),
    })),
  })}\n`;
}
