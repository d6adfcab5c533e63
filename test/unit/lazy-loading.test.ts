// Issue 13: what a command does not use, it does not load. Follows the static imports of the compiled CLI from
// main.js (what `--help`, `--version` and a usage error load before any action runs) and fails when they reach a
// package other than commander or the implementation layers (registry/, manifest/): those belong inside a
// command's action, behind `await import(…)`, so that a new command is lazy unless it says otherwise.
// The same holds for the bundle of scripts/bundle.mjs, whose chunks follow those dynamic imports.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const distSrc = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Static imports and re-exports of compiled JS (tsc drops type-only imports); `import(…)` is not one. */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:[^'"()]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

/** Every module the entry loads before running anything: local files relative to dist/src, and package names. */
function staticClosure(entry: string): { files: Set<string>; packages: Set<string>; builtins: Set<string>; text: string } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const builtins = new Set<string>();
  let text = '';
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    const name = relative(distSrc, file);
    if (files.has(name)) continue;
    files.add(name);
    const source = readFileSync(file, 'utf8');
    text += source;
    for (const match of source.matchAll(STATIC_IMPORT)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else if (specifier.startsWith('node:')) builtins.add(specifier);
      else packages.add(specifier.split('/')[0] ?? specifier);
    }
  }
  return { files, packages, builtins, text };
}

test('the CLI entry statically loads commander and light modules only', () => {
  const entry = join(distSrc, 'cli', 'main.js');
  assert.ok(existsSync(entry), `${entry} (compile first)`);
  const { files, packages, builtins } = staticClosure(entry);
  assert.ok(files.has(join('cli', 'program.js')), 'the walk follows imports');
  // Built-ins that cost milliseconds to load and that only some commands use (crypto: hashing; fs/promises with
  // readline and streams: files; v8: the transport's flag; child_process: credential helpers; the network ones).
  const costly = [...builtins].filter((b) => /^node:(crypto|fs\/promises|v8|child_process|http2?|https|tls|net|zlib|readline)$/.test(b));
  assert.deepEqual(costly, [], 'load these where they are used');
  assert.deepEqual([...packages].sort(), ['commander']);
  const heavy = [...files].filter((f) => /^(registry|manifest|store|archive)\//.test(f) || /^spec\/(load|parse-yaml|validate|spec-schema\.validator)\.js$/.test(f));
  assert.deepEqual(heavy, [], 'load these inside the command action, with await import()');
});

test('the bundle\'s entry statically loads no chunk of undici, js-yaml or ajv', (t) => {
  const entry = join(distSrc, 'cli', 'bundle', 'manifest.js');
  if (!existsSync(entry)) {
    t.skip('no bundle (scripts/bundle.mjs not run)');
    return;
  }
  const { files, packages, text } = staticClosure(entry);
  assert.ok(files.size > 1, 'the walk follows the chunks');
  assert.deepEqual([...packages], []);
  // Marks of each package's code: undici's HTTP parser, js-yaml's error class, ajv's runtime.
  for (const mark of ['llhttp', 'YAMLException', 'ucs2length']) assert.ok(!text.includes(mark), `${mark} is loaded by every command`);
});

test('the bundle keeps undici\'s HTTP/2 client and llhttp\'s base64 text out of start-up', (t) => {
  const dir = join(distSrc, 'cli', 'bundle');
  if (!existsSync(join(dir, 'manifest.js'))) {
    t.skip('no bundle (scripts/bundle.mjs not run)');
    return;
  }
  const chunks = readdirSync(dir).filter((name) => name.endsWith('.js')).map((name) => readFileSync(join(dir, name), 'utf8'));
  // The edits of scripts/bundle.mjs applied: the WebAssembly is read from files beside the bundle, and the h2
  // client is required when a connection is made with h2 only.
  assert.ok(!chunks.some((text) => text.includes('wasmBase64')), 'llhttp\'s WebAssembly is in a chunk as base64 text');
  for (const name of ['llhttp-wasm.wasm', 'llhttp_simd-wasm.wasm']) {
    const bytes = readFileSync(join(dir, name));
    assert.deepEqual([...bytes.subarray(0, 4)], [0, 0x61, 0x73, 0x6d], `${name} is WebAssembly`);
  }
  assert.ok(chunks.some((text) => text.includes('connectH2 = (...h2Args) =>')), 'undici\'s client loads client-h2 at start');
});
