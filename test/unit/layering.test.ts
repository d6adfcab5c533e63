// design.md §2: imports point down. Reads every import of src/ and fails on an upward or forbidden edge.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const src = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

interface Edge { from: string; to: string; typeOnly: boolean }

function edges(): Edge[] {
  const out: Edge[] = [];
  const pattern = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const file of sources(src)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(pattern)) {
      const spec = m[3] ?? m[4] ?? '';
      const to = spec.startsWith('.') ? relative(src, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
      out.push({ from: relative(src, file), to, typeOnly: m[2] !== undefined });
    }
  }
  return out;
}

// index.ts is the public API: it re-exports every layer below the CLI.
const layerOf = (path: string): string => (path === 'index.ts' ? 'api' : path.includes('/') ? path.split('/')[0] ?? '' : 'leaf');
// store/ (and the archive readers beside it) sits between manifest/ and registry/: the places images live.
const RANK: Record<string, number> = { cli: 4, api: 3, manifest: 2, spec: 2, kube: 2, store: 1.5, archive: 1.5, registry: 1, types: 0, leaf: 0 };

test('src/ has imports to check', () => assert.ok(edges().length > 20));

test('imports point down: cli -> manifest, spec -> store -> registry -> leaves', () => {
  const bad = edges().filter((e) => {
    if (!e.to.endsWith('.ts')) return false;
    const from = layerOf(e.from);
    const to = layerOf(e.to);
    if (from === to) return false;
    if (from === 'manifest' && to === 'spec') return !e.typeOnly; // manifest may use spec's types only
    return (RANK[to] ?? 0) > (RANK[from] ?? 0) || (from === 'spec' && to === 'registry') || (from === 'leaf' && to !== 'leaf' && to !== 'types') || (to === 'api');
  });
  assert.deepEqual(bad.map((e) => `${e.from} -> ${e.to}`), []);
});

test('only registry/ imports undici; only cli/ imports commander', () => {
  const bad = edges().filter((e) => (e.to === 'undici' && layerOf(e.from) !== 'registry') || (e.to === 'commander' && layerOf(e.from) !== 'cli'));
  assert.deepEqual(bad.map((e) => `${e.from} -> ${e.to}`), []);
});

test('only cli/ touches process.exit, process.argv, process.env, stdout or stderr', () => {
  const offenders = sources(src)
    .filter((file) => layerOf(relative(src, file)) !== 'cli')
    .filter((file) => /process\.(exit|argv|env|stdout|stderr)\b|console\./.test(readFileSync(file, 'utf8')))
    .map((file) => relative(src, file));
  assert.deepEqual(offenders, []);
});

test('index.ts names its exports (no export *)', () => {
  assert.doesNotMatch(readFileSync(join(src, 'index.ts'), 'utf8'), /export \*/);
});
