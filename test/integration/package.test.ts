// The npm package as users get it: `npm pack`, then the tarball installed into an empty project (the command
// through `npx manifest`, the library through `import`), installed globally, and run through `npx -p TARBALL`;
// a push from the installed package against a real registry.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { registryAvailable, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCommand } from '../helpers/run-command.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);
const NPM_TIMEOUT_MS = 240_000;

describe('the npm package, installed from its tarball', { skip: skipReason, timeout: 900_000 }, () => {
  let dir: string;
  let tarball: string;
  let name: string;
  let version: string;
  let project: string;
  let registry: TestRegistry;
  // npm's own settings (cache, registry) from the user's environment; nothing of this checkout on PATH.
  const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifest-package-'));
    ({ name, version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string });
    // dist/ is built already (the tests run from it): the package is packed as it is, without running prepare again.
    const pack = await runCommand('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: repoRoot, env, timeoutMs: NPM_TIMEOUT_MS });
    assert.equal(pack.code, 0, pack.stderr);
    tarball = join(dir, pack.stdout.trim().split('\n').pop() ?? '');
    project = join(dir, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const install = await runCommand('npm', ['install', '--prefer-offline', tarball], { cwd: project, env, timeoutMs: NPM_TIMEOUT_MS });
    assert.equal(install.code, 0, install.stderr);
    registry = await startRegistry('plain');
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('the tarball holds the built code, its types, the schemas and the changelog; no sources, tests or fixtures', async () => {
    const list = await runCommand('tar', ['-tzf', tarball], { timeoutMs: 30_000 });
    const files = list.stdout.split('\n').filter((f) => f !== '');
    for (const needed of ['package/bin/manifest.js', 'package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/dist/src/cli/main.js',
      'package/schemas/spec.schema.json', 'package/CHANGELOG.md', 'package/README.md', 'package/package.json',
      // The bundle bin/manifest.js runs, and the WebAssembly it reads beside itself at the first connection.
      'package/dist/src/cli/bundle/manifest.js', 'package/dist/src/cli/bundle/llhttp-wasm.wasm', 'package/dist/src/cli/bundle/llhttp_simd-wasm.wasm']) {
      assert.ok(files.includes(needed), `${needed} is in the package`);
    }
    const stray = files.filter((f) => /^package\/(test|src|bench|scripts|examples|dist\/test|dist\/bench|dist\/scripts)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'));
    assert.deepEqual(stray, []);
  });

  test('as a dependency: `npx manifest --help` and --version run the installed command', async () => {
    const help = await runCommand('npx', ['--no-install', 'manifest', '--help'], { cwd: project, env, timeoutMs: 60_000 });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: manifest /);
    const v = await runCommand('npx', ['--no-install', 'manifest', '--version'], { cwd: project, env, timeoutMs: 60_000 });
    assert.equal(v.stdout, `${version} (Node.js ${process.version})\n`);
  });

  test('as a library: the package imports by its name, and the spec schema resolves at a stable path', async () => {
    const script = `import { pushManifestList, parseReference } from '${name}';
import { createRequire } from 'node:module';
const schema = createRequire(import.meta.url).resolve('${name}/schemas/spec.schema.json');
console.log(typeof pushManifestList, parseReference('alpine').toString(), schema.endsWith('node_modules/${name}/schemas/spec.schema.json'));`;
    await writeFile(join(project, 'use.mjs'), script);
    const r = await runCommand(process.execPath, ['use.mjs'], { cwd: project, env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'function docker.io/library/alpine:latest true\n');
  });

  test('a push from the installed package, read back with skopeo', async () => {
    await registry.seedImage({ repository: 'pkg/app', tag: '1-amd64', platform: { os: 'linux', architecture: 'amd64' } });
    await registry.seedImage({ repository: 'pkg/app', tag: '1-arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    await writeFile(join(project, 'app.yaml'), `image: ${registry.host}/pkg/app:1
manifests:
  - image: ${registry.host}/pkg/app:1-amd64
  - image: ${registry.host}/pkg/app:1-arm64
`);
    const push = await runCommand('npx', ['--no-install', 'manifest', '--plain-http', 'pushml', 'app.yaml'], { cwd: project, env, timeoutMs: 120_000 });
    assert.equal(push.code, 0, push.stderr);
    const digest = /^Digest: (sha256:[0-9a-f]{64}) \d+$/m.exec(push.stdout)?.[1];
    assert.ok(digest !== undefined, push.stdout);
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/pkg/app:1`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.match(raw.stdout, /"architecture": "arm64"/);
  });

  test('examples/library.ts type-checks against the installed package\'s types and runs: push, inspect, check', async () => {
    await copyFile(join(repoRoot, 'examples', 'library.ts'), join(project, 'library.ts'));
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'nodenext', target: 'es2022', strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true,
        typeRoots: [join(repoRoot, 'node_modules', '@types')], types: ['node'],
      },
      files: ['library.ts'],
    }));
    const tsc = await runCommand(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project, env, timeoutMs: 180_000 });
    assert.equal(tsc.code, 0, `${tsc.stdout}${tsc.stderr}`);
    await registry.seedImage({ repository: 'lib/app', tag: '1-amd64', platform: { os: 'linux', architecture: 'amd64' } });
    await registry.seedImage({ repository: 'lib/app', tag: '1-arm64', platform: { os: 'linux', architecture: 'arm64' } });
    const r = await runCommand(process.execPath, ['library.js', `${registry.host}/lib/app:1`, `${registry.host}/lib/app:1-ARCH`], {
      cwd: project, env: { ...env, PLAIN_HTTP_HOSTS: registry.host, HOME: dir }, timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^pushed ${registry.host}/lib/app:1 sha256:[0-9a-f]{64}\\n  linux/amd64 sha256:[0-9a-f]{64}\\n  linux/arm64 sha256:[0-9a-f]{64}\\n  DaemonSet agent lacks: linux/s390x\\n$`));
  });

  test('installed globally, and through `npx -p TARBALL manifest`', async () => {
    const prefix = join(dir, 'global');
    const install = await runCommand('npm', ['install', '--global', '--prefer-offline', '--prefix', prefix, tarball], { cwd: dir, env, timeoutMs: NPM_TIMEOUT_MS });
    assert.equal(install.code, 0, install.stderr);
    const global = await runCommand(join(prefix, 'bin', 'manifest'), ['--version'], { cwd: dir, env, timeoutMs: 60_000 });
    assert.equal(global.code, 0, global.stderr);
    assert.match(global.stdout, new RegExp(`^${version.replaceAll('.', '\\.')} `));
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const npx = await runCommand('npx', ['--yes', '--prefer-offline', '-p', tarball, 'manifest', 'completion', 'bash'], { cwd: empty, env, timeoutMs: NPM_TIMEOUT_MS });
    assert.equal(npx.code, 0, npx.stderr);
    assert.match(npx.stdout, /complete -o filenames -F _manifest_complete manifest/);
  });
});
