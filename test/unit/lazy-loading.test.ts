// Issue 13: what a command does not use, it does not load. Follows the static imports of the compiled CLI from
// main.js (what `--help`, `--version` and a usage error load before any action runs) and fails when they reach a
// package other than commander or the implementation layers (registry/, manifest/): those belong inside a
// command's action, behind `await import(…)`, so that a new command is lazy unless it says otherwise.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const distSrc = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Static imports and re-exports of compiled JS (tsc drops type-only imports); `import(…)` is not one. */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:[^'"()]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

/** Every module the entry loads before running anything: local files relative to dist/src, and package names. */
function staticClosure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    const name = relative(distSrc, file);
    if (files.has(name)) continue;
    files.add(name);
    for (const match of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:')) packages.add(specifier.split('/')[0] ?? specifier);
    }
  }
  return { files, packages };
}

test('the CLI entry statically loads commander and light modules only', () => {
  const entry = join(distSrc, 'cli', 'main.js');
  assert.ok(existsSync(entry), `${entry} (compile first)`);
  const { files, packages } = staticClosure(entry);
  assert.ok(files.has(join('cli', 'program.js')), 'the walk follows imports');
  assert.deepEqual([...packages].sort(), ['commander']);
  const heavy = [...files].filter((f) => /^(registry|manifest|store|archive)\//.test(f) || /^spec\/(load|parse-yaml|validate|spec-schema\.validator)\.js$/.test(f));
  assert.deepEqual(heavy, [], 'load these inside the command action, with await import()');
});
