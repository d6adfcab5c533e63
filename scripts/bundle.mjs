#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts and everything it loads: undici, commander, js-yaml, ajv's runtime) with
// esbuild into dist/src/cli/bundle/: manifest.js, the entry, holds what every command needs (commander and our
// light modules), and what a command's action imports lazily stays in chunks loaded by that action only, as in
// tsc's output. Node starts a handful of modules instead of about 60 (issue 13; the README's Performance section
// says what it gave). Source maps are written beside each file: with --debug, bin/manifest.js enables them so that
// stack traces name our TypeScript files. The library entry (dist/src/index.js) stays tsc's unbundled ESM with
// its types. `npm run build`, `prepare`, `test` and `bench` run this after tsc.
//   node scripts/bundle.mjs
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'src', 'cli', 'bundle');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// commander requires node:child_process at load time for executable subcommands, which this CLI does not have;
// loading it (with net, dgram and their internals) cost every `--help`. It is required when first used instead.
// Should commander's line change, the replacement does not apply and the bundle works as before.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replace(
        "const childProcess = require('node:child_process');",
        "const childProcess = { spawn: (...spawnArgs) => require('node:child_process').spawn(...spawnArgs) };",
      ),
      loader: 'js',
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { manifest: join(root, 'src', 'cli', 'main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  // src/cli/version.ts reads package.json unless the version is given here.
  define: { MANIFEST_BUNDLED_VERSION: JSON.stringify(version ?? '0.0.0') },
  // undici and commander are CommonJS and require node's built-ins: give each ESM chunk a real require.
  // The AWS SDK (s3:// stores only) is left to Node to load from node_modules: it is large, loaded by one command,
  // and its CommonJS exports do not survive esbuild's ESM interop (sdk.S3Client would be undefined).
  external: ['@aws-sdk/*'],
  plugins: [lazyChildProcess],
  banner: { js: "import { createRequire as __manifestCreateRequire } from 'node:module';\nconst require = __manifestCreateRequire(import.meta.url);" },
});
