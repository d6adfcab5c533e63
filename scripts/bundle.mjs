#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts and everything it loads: undici, commander, js-yaml, ajv's runtime) with
// esbuild into dist/src/cli/bundle/: manifest.js, the entry, holds what every command needs (commander and our
// light modules); what the actions import lazily is gathered into one chunk, the hub, loaded by the first action
// that needs any of it (the rarely used parts stay in chunks of their own, below). Node starts a handful of
// modules instead of about 60 (issue 13; the README's Performance section says what each step gave). Source maps are written beside each file: with --debug, bin/manifest.js enables them so that
// stack traces name our TypeScript files. The library entry (dist/src/index.js) stays tsc's unbundled ESM with
// its types. `npm run build`, `prepare`, `test` and `bench` run this after tsc.
//   node scripts/bundle.mjs
import { build } from 'esbuild';
import { Buffer } from 'node:buffer';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'src', 'cli', 'bundle');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// Source edits that keep what a command does not use from being loaded or parsed at start-up. Each names the file
// it edits and the exact text it replaces; should a dependency's line change, the edit does not apply, the bundle
// works as before (only slower) and this script says so.
const lazyEdits = [
  {
    // commander requires node:child_process at load time for executable subcommands, which this CLI does not have;
    // loading it (with net, dgram and their internals) cost every `--help`. It is required when first used instead.
    file: /[\\/]commander[\\/]lib[\\/]command\.js$/,
    from: "const childProcess = require('node:child_process');",
    to: "const childProcess = { spawn: (...spawnArgs) => require('node:child_process').spawn(...spawnArgs) };",
  },
  {
    // undici's client loads its HTTP/2 half (and node:http2, the largest built-in it loads) at start; it is used
    // only when a server picks h2 through ALPN, which the transport never offers (allowH2 is off).
    file: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/,
    from: "const connectH2 = require('./client-h2.js')",
    to: "const connectH2 = (...h2Args) => require('./client-h2.js')(...h2Args)",
  },
  ...['llhttp-wasm', 'llhttp_simd-wasm'].map((name) => ({
    // undici keeps llhttp's WebAssembly as base64 text (72 KB each, two builds): parsed at every start, decoded when
    // the first connection opens. The bundle keeps the binary beside itself instead and reads the one used then.
    file: new RegExp(`[\\\\/]undici[\\\\/]lib[\\\\/]llhttp[\\\\/]${name}\\.js$`),
    whole: (source) => {
      const base64 = /const wasmBase64 = '([A-Za-z0-9+/=]+)'/.exec(source)?.[1];
      if (base64 === undefined) return undefined;
      wasmFiles.set(`${name}.wasm`, Buffer.from(base64, 'base64'));
      return `let wasm;\nObject.defineProperty(module, 'exports', { get: () => (wasm ??= require('node:fs').readFileSync(new URL('./${name}.wasm', __manifestBundleUrl))) });\n`;
    },
  })),
];
/** The WebAssembly files the llhttp edits took out of the source, written beside the bundle. */
const wasmFiles = new Map();
const unapplied = new Set(lazyEdits);

const lazyLoading = {
  name: 'lazy-loading',
  setup(plugin) {
    for (const edit of lazyEdits) {
      plugin.onLoad({ filter: edit.file }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const contents = edit.whole === undefined
          ? (source.includes(edit.from) ? source.replace(edit.from, edit.to) : undefined)
          : edit.whole(source);
        if (contents === undefined) return { contents: source, loader: 'js' };
        unapplied.delete(edit);
        return { contents, loader: 'js' };
      });
    }
  },
};


// The hub. Left to itself, esbuild's splitting makes a chunk for every set of dynamic imports that shares code:
// a push loaded 39 modules, and Node's ESM loader spends a fraction of a millisecond resolving and linking each
// (pushml's start-up: 20 ms more than with one chunk). Every `import('./….js')` of our sources is routed through
// one virtual module that re-exports each target's namespace, so the code behind them lands in one chunk (with
// what it shares with the entry: pushml now loads 7 modules). Three parts stay apart, loaded by their own import:
// the s3:// glue, shell completion and undici's proxy agent. Keeping more apart (archives, Kubernetes manifests,
// server configurations) split the hub into shared chunks again, and measured no faster for inspect.
const HUB_EXCLUDED = /^(store\/s3|cli\/completion\.ts$|registry\/undici-proxy\.ts$)/;
const DYNAMIC_IMPORT = /import\((['"])(\.{1,2}\/[^'"]+)\.js\1\)/g;
const srcRoot = join(root, 'src');

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The hub's members: each relative dynamic-import target of src/ that is not excluded, by its export name. */
const hubMembers = new Map();
for (const file of tsFiles(srcRoot)) {
  for (const match of readFileSync(file, 'utf8').matchAll(DYNAMIC_IMPORT)) {
    const target = resolve(dirname(file), `${match[2]}.ts`);
    if (!HUB_EXCLUDED.test(relative(srcRoot, target).replaceAll('\\', '/')) && !hubMembers.has(target)) hubMembers.set(target, `m${hubMembers.size}`);
  }
}

const hubChunk = {
  name: 'hub',
  setup(plugin) {
    plugin.onResolve({ filter: /^manifest-hub$/ }, () => ({ path: 'hub', namespace: 'manifest-hub' }));
    plugin.onLoad({ filter: /.*/, namespace: 'manifest-hub' }, () => ({
      contents: [...hubMembers].map(([path, name]) => `export * as ${name} from ${JSON.stringify(path)};`).join('\n'),
      loader: 'js',
      resolveDir: srcRoot,
    }));
    plugin.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!args.path.startsWith(srcRoot)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      const contents = source.replace(DYNAMIC_IMPORT, (text, _quote, specifier) => {
        const name = hubMembers.get(resolve(dirname(args.path), `${specifier}.ts`));
        return name === undefined ? text : `import('manifest-hub').then((hub) => hub.${name})`;
      });
      return contents === source ? undefined : { contents, loader: 'ts' };
    });
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
  plugins: [lazyLoading, hubChunk],
  banner: { js: "import { createRequire as __manifestCreateRequire } from 'node:module';\nconst require = __manifestCreateRequire(import.meta.url);\nconst __manifestBundleUrl = import.meta.url;" },
});
for (const [name, bytes] of wasmFiles) writeFileSync(join(outdir, name), bytes);
for (const edit of unapplied) {
  console.warn(`bundle: the start-up edit for ${edit.file} did not apply (the dependency changed?); the bundle works, but loads more at start`);
}
