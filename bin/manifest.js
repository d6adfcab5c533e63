#!/usr/bin/env node
// The installed command. It runs the bundle of the CLI (dist/src/cli/bundle/, built by scripts/bundle.mjs at
// `npm run build` / `prepare`) when it is at least as new as tsc's output, else tsc's output itself: a checkout
// recompiled with `tsc` alone never runs a stale bundle. Run `npm run build` in a checkout first.
import { statSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

// Node 22.1+ keeps the compiled code of the modules it loads in this per-user cache, so later starts skip
// compiling them (NODE_COMPILE_CACHE, when set, wins; a cache that cannot be written is only not used). Node 20 has
// no such cache: nothing happens.
if (typeof module.enableCompileCache === 'function' && process.env.NODE_COMPILE_CACHE === undefined) {
  try {
    module.enableCompileCache(join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'manifest', 'node-compile-cache'));
  } catch {
    // No home directory to keep a cache in: start without one.
  }
}

const bundle = new URL('../dist/src/cli/bundle/manifest.js', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

function modifiedAt(url) {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
}

const bundleTime = modifiedAt(bundle);
const compiledTime = modifiedAt(compiled);
const entry = bundleTime !== undefined && (compiledTime === undefined || bundleTime >= compiledTime) ? bundle : compiled;
// With --debug, stack traces name our TypeScript files (through the source maps written beside the JavaScript).
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
const { main } = await import(entry.href);
await main();
