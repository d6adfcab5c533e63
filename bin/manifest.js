#!/usr/bin/env node
// The installed command. It runs the bundle of the CLI (dist/src/cli/bundle/, built by scripts/bundle.mjs at
// `npm run build` / `prepare`) when it is at least as new as tsc's output, else tsc's output itself: a checkout
// recompiled with `tsc` alone never runs a stale bundle. Run `npm run build` in a checkout first.
import { statSync } from 'node:fs';

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
