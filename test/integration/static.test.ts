// Static registries: a list pushed to a `dir:` tree, served by a real nginx with the configuration `manifest static
// serve-config` generates, pulled by skopeo (and podman, when it runs here) for every platform; housekeeping
// (static ls, rm, gc) counted file by file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { assertOneLineError, runCli, type CliResult } from '../helpers/cli.js';
import { apacheAvailable, assertAnswersLikeRegistry, caddyAvailable, nginxAvailable, startApache, startCaddy, startNginx, type TestNginx } from '../helpers/nginx.js';
import { EIGHT_PLATFORMS } from '../helpers/platforms.js';
import { isOnPath, registryAvailable, startRegistry, type SeededImage, type TestRegistry } from '../helpers/registry.js';
import { runCommand } from '../helpers/run-command.js';
import { SEED_ARCHITECTURES, SEED_FLAVORS } from '../helpers/seed-binaries.js';

const missing = [...(registryAvailable() ? [] : ['docker-registry or skopeo']), ...(nginxAvailable() ? [] : ['nginx'])];
const skipReason = missing.length === 0 ? false : `${missing.join(' and ')} not installed (npm test installs them as root)`;
if (skipReason !== false && process.env.CI) throw new Error(`CI needs these tools: ${skipReason}`);
const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const PLATFORMS = EIGHT_PLATFORMS.slice(0, 3); // linux/amd64, linux/arm64/v8, linux/arm/v7

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.text}\nstderr: ${r.stderr}`);
  return r;
}

function digestLine(r: CliResult): string {
  const match = /^Digest: (sha256:[0-9a-f]{64}) [0-9]+$/m.exec(r.text);
  assert.ok(match, r.text);
  return match[1] ?? '';
}

/** Every file under root (relative path and size), sorted. */
async function files(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(`${relative(root, path)} ${(await stat(path)).size}`);
    }
  };
  await walk(root);
  return out.sort();
}

function skopeoPlatform(p: SeededImage['platform']): string[] {
  return ['--override-os', p.os, '--override-arch', p.architecture, ...(p.variant === undefined ? [] : ['--override-variant', p.variant])];
}

describe('static registry in a directory, served by nginx', { skip: skipReason, timeout: 600_000 }, () => {
  let registry: TestRegistry;
  let nginx: TestNginx;
  let work: string;
  let root: string;
  const images: SeededImage[] = [];
  let digest10 = '';
  let digest11 = '';

  const skopeo = (args: string[], global: string[] = []): ReturnType<TestRegistry['skopeo']> => registry.skopeo(args[0] ?? '', args.slice(1), global);

  before(async () => {
    registry = await startRegistry('plain');
    work = await mkdtemp(join(tmpdir(), 'manifest-static-'));
    root = join(work, 'www');
    for (const [i, platform] of PLATFORMS.entries()) {
      images.push(await registry.seedImage({ repository: 'src/app', tag: `1.0-${['amd64', 'arm64v8', 'armv7'][i] ?? ''}`, platform }));
    }
  });

  after(async () => {
    await nginx?.stop();
    await registry?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test('push from-args to dir: writes the layout, atomically and completely', async () => {
    const r = ok(await runCli(['push', 'from-args', '--plain-http', '--platforms', 'linux/amd64,linux/arm64/v8,linux/arm/v7',
      '--template', `${registry.host}/src/app:1.0-ARCHVARIANT`, '--target', `dir:${root}//team/app:1.0`]));
    digest10 = digestLine(r);
    const tree = await files(root);
    const list = await readFile(join(root, 'v2/team/app/manifests/1.0'));
    assert.equal(sha256(list), digest10);
    assert.deepEqual(await readFile(join(root, 'v2/team/app/manifests', digest10)), list);
    assert.equal(await readFile(join(root, 'v2/index.html'), 'utf8'), '{}');
    assert.deepEqual(JSON.parse(await readFile(join(root, 'v2/team/app/tags/list'), 'utf8')), { name: 'team/app', tags: ['1.0'] });
    for (const image of images) {
      assert.deepEqual(await readFile(join(root, 'v2/team/app/manifests', image.digest)), Buffer.from(image.bytes));
      for (const blob of [image.config, ...image.layers]) assert.ok(tree.includes(`v2/team/app/blobs/${blob.digest} ${blob.size}`), blob.digest);
    }
    // index.html, tags/list, the tag, the list and 3 children by digest, 3 configs and 3 layers; no temp file.
    assert.equal(tree.length, 1 + 1 + 1 + 1 + 3 + 6, tree.join('\n'));
  });

  test('serve-config --nginx: skopeo pulls every platform through a real nginx', async () => {
    nginx = await startNginx(async (listen) => {
      const r = ok(await runCli(['static', 'serve-config', `dir:${root}`, '--nginx', '--listen', listen, '--write']));
      return r.text.trim();
    });
    const raw = await skopeo(['inspect', '--raw', `docker://${nginx.host}/team/app:1.0`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(sha256(raw.stdout), digest10);
    for (const [i, platform] of PLATFORMS.entries()) {
      const dest = join(work, `pulled-${i}`);
      const copied = await skopeo(['copy', `docker://${nginx.host}/team/app:1.0`, `dir:${dest}`], skopeoPlatform(platform));
      assert.equal(copied.code, 0, copied.stderr);
      assert.equal(sha256(await readFile(join(dest, 'manifest.json'))), images[i]?.digest, `platform ${i}`);
    }
  });

  test('serve-config --caddy: a real Caddy serves the same pulls and errors', { skip: caddyAvailable() || process.env.CI ? false : 'caddy is not installed' }, async () => {
    const caddy = await startCaddy(async (listen) => {
      const file = join(work, 'Caddyfile.site');
      await writeFile(file, ok(await runCli(['static', 'serve-config', `dir:${root}`, '--caddy', '--listen', listen])).text);
      return file;
    });
    try {
      const raw = await skopeo(['inspect', '--raw', `docker://${caddy.host}/team/app:1.0`]);
      assert.equal(raw.code, 0, raw.stderr);
      assert.equal(sha256(raw.stdout), digest10);
      const copied = await skopeo(['copy', `docker://${caddy.host}/team/app:1.0`, `dir:${join(work, 'caddy-armv7')}`], skopeoPlatform(PLATFORMS[2] as SeededImage['platform']));
      assert.equal(copied.code, 0, copied.stderr);
      await assertAnswersLikeRegistry(caddy.url, { repository: 'team/app', tag: '1.0', mediaType: DOCKER_LIST, digest: digest10 });
    } finally {
      await caddy.stop();
    }
  });

  test('serve-config --apache: a real Apache httpd serves the same pulls, headers and errors', { skip: apacheAvailable() || process.env.CI ? false : 'apache2 is not installed' }, async () => {
    // Apache's workers run as nobody: the test's private temp dir is opened to them for this server.
    await chmod(work, 0o755);
    const apache = await startApache(async (listen) => {
      const file = join(work, 'apache.site.conf');
      await writeFile(file, ok(await runCli(['static', 'serve-config', `dir:${root}`, '--apache', '--listen', listen])).text);
      return file;
    });
    try {
      const raw = await skopeo(['inspect', '--raw', `docker://${apache.host}/team/app:1.0`]);
      assert.equal(raw.code, 0, raw.stderr);
      assert.equal(sha256(raw.stdout), digest10);
      const copied = await skopeo(['copy', `docker://${apache.host}/team/app:1.0`, `dir:${join(work, 'apache-armv7')}`], skopeoPlatform(PLATFORMS[2] as SeededImage['platform']));
      assert.equal(copied.code, 0, copied.stderr);
      const version = await request(`${apache.url}/v2/`);
      await version.body.dump();
      assert.equal(version.headers['docker-distribution-api-version'], 'registry/2.0');
      await assertAnswersLikeRegistry(apache.url, { repository: 'team/app', tag: '1.0', mediaType: DOCKER_LIST, digest: digest10, missingBlob: true });
    } finally {
      await apache.stop();
      await chmod(work, 0o700);
    }
  });

  test('the headers a registry gives: media types, digests, API version, HEAD, JSON 404 errors', async () => {
    const tag = await request(`${nginx.url}/v2/team/app/manifests/1.0`, { method: 'HEAD' });
    await tag.body.dump();
    assert.equal(tag.statusCode, 200);
    assert.equal(tag.headers['content-type'], DOCKER_LIST);
    assert.equal(tag.headers['docker-content-digest'], digest10);
    assert.equal(tag.headers['docker-distribution-api-version'], 'registry/2.0');
    const child = await request(`${nginx.url}/v2/team/app/manifests/${images[0]?.digest ?? ''}`);
    assert.equal(child.headers['content-type'], DOCKER_MANIFEST);
    assert.equal(sha256(Buffer.from(await child.body.arrayBuffer())), images[0]?.digest);
    const layer = images[0]?.layers[0];
    const blob = await request(`${nginx.url}/v2/team/app/blobs/${layer?.digest ?? ''}`);
    await blob.body.dump();
    assert.equal(blob.headers['docker-content-digest'], layer?.digest);
    assert.equal(blob.headers['content-type'], 'application/octet-stream');
    const version = await request(`${nginx.url}/v2/`);
    assert.equal(await version.body.text(), '{}');
    assert.equal(version.headers['docker-distribution-api-version'], 'registry/2.0');
    for (const [path, code] of [['/v2/team/app/manifests/9.9', 'MANIFEST_UNKNOWN'], [`/v2/team/app/blobs/sha256:${'0'.repeat(64)}`, 'BLOB_UNKNOWN']] as const) {
      const missingFile = await request(`${nginx.url}${path}`);
      assert.equal(missingFile.statusCode, 404, path);
      assert.equal(missingFile.headers['content-type'], 'application/json');
      assert.equal((await missingFile.body.json() as { errors: { code: string }[] }).errors[0]?.code, code);
    }
    const hidden = await request(`${nginx.url}/.manifest/nginx.conf`);
    await hidden.body.dump();
    assert.equal(hidden.statusCode, 404, 'the written configuration is not served');
  });

  test('manifest inspect reads it like a registry; a missing tag is the registry\'s 404', async () => {
    const r = ok(await runCli(['inspect', '--plain-http', '--json', `${nginx.host}/team/app:1.0`]));
    const doc = JSON.parse(r.text) as { digest: string; manifests: unknown[] };
    assert.equal(doc.digest, digest10);
    assert.equal(doc.manifests.length, 3);
    const missingTag = await runCli(['inspect', '--plain-http', `${nginx.host}/team/app:9.9`]);
    assert.equal(missingTag.code, 4, missingTag.stderr);
    assert.match(missingTag.stderr, /^manifest: .*9\.9.*not found/m);
  });

  test('manifest inspect reads the store itself, with no web server: the same answer as through nginx', async () => {
    const served = JSON.parse(ok(await runCli(['inspect', '--plain-http', '--json', `${nginx.host}/team/app:1.0`])).text) as Record<string, unknown>;
    const direct = JSON.parse(ok(await runCli(['inspect', '--json', `dir:${root}//team/app:1.0`])).text) as Record<string, unknown>;
    // The same list, entries, layers and platforms; only the names differ.
    assert.deepEqual({ ...direct, name: '', reference: '' }, { ...served, name: '', reference: '' });
    assert.equal(direct.reference, `dir:${root}//team/app:1.0`);
    const raw = ok(await runCli(['inspect', '--raw', `dir:${root}//team/app:1.0`]));
    assert.equal(sha256(Buffer.from(raw.text)), digest10);
    const arm = JSON.parse(ok(await runCli(['inspect', '--json', '--platform', 'linux/arm/v7', `dir:${root}//team/app:1.0`])).text) as { digest: string };
    assert.equal(arm.digest, images[2]?.digest);
    assert.match(ok(await runCli(['inspect', `dir:${root}//team/app:1.0`])).text, /Arch: arm64\n.*Variant: v8\n/);
    const missingTag = await runCli(['inspect', `dir:${root}//team/app:9.9`]);
    assertOneLineError(missingTag, 4, /tag 9\.9 not found in dir:/);
    // A mistyped root is no store, not a store without that tag.
    assertOneLineError(await runCli(['inspect', `dir:${join(work, 'no-such-root')}//team/app:1.0`]), 4, /no static registry in dir:.*no-such-root \(no v2\/index\.html: push to it first\)/);
    assertOneLineError(await runCli(['inspect', `dir:${root}`]), 2, /name the repository/);
  });

  test('a second tag updates tags/list; a re-push uploads nothing; the written configuration follows', async () => {
    const before11 = await files(root);
    const r = ok(await runCli(['push', 'from-args', '--plain-http', '--json', '--platforms', 'linux/amd64,linux/arm64/v8',
      '--template', `${registry.host}/src/app:1.0-ARCHVARIANT`, '--target', `dir:${root}//team/app:1.1`]));
    const pushed = JSON.parse(r.text) as { digest: string; blobs: { copied: number; present: number } };
    digest11 = pushed.digest;
    assert.equal(pushed.blobs.copied, 0, 'every blob was already there');
    assert.deepEqual(JSON.parse(await readFile(join(root, 'v2/team/app/tags/list'), 'utf8')), { name: 'team/app', tags: ['1.0', '1.1'] });
    const added = (await files(root)).filter((f) => !before11.includes(f)).map((f) => f.replace(/ [0-9]+$/, ''));
    assert.deepEqual(added.filter((f) => !f.startsWith('.manifest/')).sort(), [`v2/team/app/manifests/${digest11}`, 'v2/team/app/manifests/1.1', 'v2/team/app/tags/list'].sort());
    assert.match(await readFile(join(root, '.manifest/nginx.conf'), 'utf8'), /location = \/v2\/team\/app\/manifests\/1\.1 /);

    const snapshot = await files(root);
    const again = ok(await runCli(['push', 'from-args', '--plain-http', '--json', '--force', '--platforms', 'linux/amd64,linux/arm64/v8',
      '--template', `${registry.host}/src/app:1.0-ARCHVARIANT`, '--target', `dir:${root}//team/app:1.1`]));
    const repushed = JSON.parse(again.text) as { digest: string; blobs: { copied: number }; copiedManifests: number };
    assert.equal(repushed.digest, digest11);
    assert.equal(repushed.blobs.copied, 0);
    assert.equal(repushed.copiedManifests, 0);
    assert.deepEqual(await files(root), snapshot);

    await nginx.restart();
    const raw = await skopeo(['inspect', '--raw', `docker://${nginx.host}/team/app:1.1`]);
    assert.equal(sha256(raw.stdout), digest11, raw.stderr);
    const tags = await skopeo(['list-tags', `docker://${nginx.host}/team/app`]);
    assert.deepEqual((JSON.parse(tags.stdout) as { Tags: string[] }).Tags, ['1.0', '1.1']);
  });

  // Under CI a missing podman fails the test (setup installs it) instead of skipping it.
  test('podman pulls each platform (vfs storage)', { skip: isOnPath('podman') || process.env.CI ? false : 'podman is not installed' }, async () => {
    const storage = join(work, 'podman');
    const env = { ...process.env, HOME: join(storage, 'home'), XDG_RUNTIME_DIR: '', XDG_CONFIG_HOME: join(storage, 'config') };
    const base = ['--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'];
    for (const [i, platform] of PLATFORMS.entries()) {
      const arch = `${platform.architecture}${platform.variant === undefined ? '' : `/${platform.variant}`}`;
      const pulled = await runCommand('podman', [...base, 'pull', '--tls-verify=false', '--arch', platform.architecture,
        ...(platform.variant === undefined ? [] : ['--variant', platform.variant]), `${nginx.host}/team/app:1.0`], { timeoutMs: 120_000, env });
      assert.equal(pulled.code, 0, `${arch}: ${pulled.stderr}`);
      const id = await runCommand('podman', [...base, 'image', 'inspect', '--format', '{{.Digest}} {{.Architecture}}', `${nginx.host}/team/app:1.0`], { timeoutMs: 60_000, env });
      assert.equal(id.code, 0, id.stderr);
      assert.match(id.stdout, new RegExp(`^${digest10} ${platform.architecture}`), `${arch}: ${id.stdout}`);
      assert.equal(images[i] !== undefined, true);
      await runCommand('podman', [...base, 'rmi', '--all', '--force'], { timeoutMs: 60_000, env });
    }
  });

  test('static ls, rm and gc: exactly the unreachable files go, the other tag still pulls, the written configuration follows', async () => {
    const listed = ok(await runCli(['static', 'ls', `dir:${root}`]));
    assert.equal(listed.text, 'team/app:1.0\nteam/app:1.1\n');
    // Read-only like serve-config, ls also takes the root as a bare path.
    assert.equal(ok(await runCli(['static', 'ls', root])).text, listed.text);
    // A mistyped root is not a store with nothing to collect.
    assertOneLineError(await runCli(['static', 'gc', `dir:${join(work, 'no-such-root')}`]), 4, /no static registry in dir:/);
    const removed = ok(await runCli(['static', 'rm', `dir:${root}//team/app:1.0`]));
    assert.deepEqual(JSON.parse(await readFile(join(root, 'v2/team/app/tags/list'), 'utf8')), { name: 'team/app', tags: ['1.1'] });
    // The configuration serve-config --write left no longer answers for the removed tag, and the user is told.
    assert.match(removed.stderr, /rewrote .*nginx\.conf: reload the web server/);
    const config = await readFile(join(root, '.manifest/nginx.conf'), 'utf8');
    assert.doesNotMatch(config, /location = \/v2\/team\/app\/manifests\/1\.0 /);
    assert.match(config, /location = \/v2\/team\/app\/manifests\/1\.1 /);
    await nginx.restart();
    const gone = await request(`${nginx.url}/v2/team/app/manifests/1.0`);
    assert.equal(gone.statusCode, 404);
    assert.equal((await gone.body.json() as { errors: { code: string }[] }).errors[0]?.code, 'MANIFEST_UNKNOWN');
    const beforeGc = await files(root);
    const armv7 = images[2] as SeededImage;
    // 1.0's list, and its arm/v7 child with that child's config and layer: nothing 1.1 reaches.
    const unreachable = [`v2/team/app/manifests/${digest10}`, `v2/team/app/manifests/${armv7.digest}`, `v2/team/app/blobs/${armv7.config.digest}`, `v2/team/app/blobs/${armv7.layers[0]?.digest ?? ''}`];
    const dry = ok(await runCli(['static', 'gc', `dir:${root}`, '--dry-run']));
    assert.deepEqual(dry.text.split('\n').filter((l) => l.startsWith('would remove ')).map((l) => l.split(' ')[2]).sort(), [...unreachable].sort());
    assert.deepEqual(await files(root), beforeGc, 'a dry run removes nothing');
    const gc = ok(await runCli(['static', 'gc', `dir:${root}//team/app`]));
    assert.equal(gc.text.split('\n').filter((l) => l.startsWith('removed ')).length, 4, gc.text);
    assert.match(gc.stderr, /rewrote .*nginx\.conf: reload the web server/);
    assert.ok(!(await readFile(join(root, '.manifest/nginx.conf'), 'utf8')).includes(digest10), 'the collected list is no longer served');
    assert.match(gc.text, /^freed [0-9]+ bytes .* in 4 files$/m);
    const afterGc = (await files(root)).map((f) => f.replace(/ [0-9]+$/, ''));
    assert.deepEqual(beforeGc.map((f) => f.replace(/ [0-9]+$/, '')).filter((f) => !afterGc.includes(f)).sort(), [...unreachable].sort());
    for (const [i, platform] of PLATFORMS.slice(0, 2).entries()) {
      const copied = await skopeo(['copy', `docker://${nginx.host}/team/app:1.1`, `dir:${join(work, `after-gc-${i}`)}`], skopeoPlatform(platform));
      assert.equal(copied.code, 0, copied.stderr);
    }
  });

  test('gc --keep 1 keeps the newest tag only', async () => {
    ok(await runCli(['push', 'from-args', '--plain-http', '--platforms', 'linux/arm/v7',
      '--template', `${registry.host}/src/app:1.0-ARCHVARIANT`, '--target', `dir:${root}//team/app:1.2`]));
    // Every static command takes the root as a bare path too.
    const gc = ok(await runCli(['static', 'gc', `${root}//team/app`, '--keep', '1']));
    assert.match(gc.text, /^removed v2\/team\/app\/manifests\/1\.1 /m);
    assert.deepEqual(JSON.parse(await readFile(join(root, 'v2/team/app/tags/list'), 'utf8')), { name: 'team/app', tags: ['1.2'] });
    const left = (await files(root)).filter((f) => f.startsWith('v2/team/app/blobs/'));
    assert.equal(left.length, 2, left.join('\n'));
  });

  test('static push publishes binaries in seed 001\'s layout and documents, served by the same nginx', async () => {
    const df = join(work, 'df');
    for (const arch of SEED_ARCHITECTURES) {
      await mkdir(join(df, 'linux', arch), { recursive: true });
      await writeFile(join(df, 'linux', arch, 'albatros'), `albatros for ${arch}\n`);
    }
    const r = ok(await runCli(['static', 'push', '-t', 'albatros:0.9', df, `dir:${root}`]));
    assert.deepEqual(r.text.trim().split('\n'), [
      ...SEED_ARCHITECTURES.map((arch) => `${join(df, 'linux', arch, 'albatros')} -> df-dist-v1/albatros/0.9/linux/${arch}/albatros`),
      'tag -> df-dist-v1/albatros/0.9/index.json',
      'manifest -> df-dist-v1/albatros/index.json',
    ]);
    // The documents of the seed, byte for byte.
    assert.equal(await readFile(join(root, 'df-dist-v1/albatros/index.json'), 'utf8'), '{"name":"albatros","tags":["0.9"]}');
    assert.equal(await readFile(join(root, 'df-dist-v1/albatros/0.9/index.json'), 'utf8'), SEED_FLAVORS);
    const index = await request(`${nginx.url}/df-dist-v1/albatros`);
    assert.equal(await index.body.text(), '{"name":"albatros","tags":["0.9"]}');
    const version = await request(`${nginx.url}/df-dist-v1/albatros/0.9`);
    assert.equal(version.headers['content-type'], 'application/json');
    assert.equal(await version.body.text(), SEED_FLAVORS);
    const binary = await request(`${nginx.url}/df-dist-v1/albatros/0.9/linux/amd64/albatros`, { method: 'HEAD' });
    await binary.body.dump();
    assert.equal(binary.statusCode, 200);
    assert.equal(binary.headers['content-type'], 'application/octet-stream');

    await writeFile(join(df, 'linux', 'amd64', 'albatros'), 'albatros 0.10\n');
    ok(await runCli(['static', 'push', '--tag', 'albatros:0.10', df, `dir:${root}`]));
    assert.equal(await readFile(join(root, 'df-dist-v1/albatros/index.json'), 'utf8'), '{"name":"albatros","tags":["0.10","0.9"]}');
    assert.equal(await readFile(join(root, 'df-dist-v1/albatros/0.10/linux/amd64/albatros'), 'utf8'), 'albatros 0.10\n');
    assert.equal(await readFile(join(root, 'df-dist-v1/albatros/0.9/linux/amd64/albatros'), 'utf8'), 'albatros for amd64\n');
  });

  test('pushml takes a static target as the spec\'s image, with further tags', async () => {
    const spec = join(work, 'static.yaml');
    await writeFile(spec, [
      `image: dir:${root}//team/yaml:2.0`,
      'tags: [latest]',
      'manifests:',
      `  - image: ${registry.host}/src/app:1.0-amd64`,
      '    platform: {architecture: amd64, os: linux}',
      `  - image: ${registry.host}/src/app:1.0-armv7`,
      '    platform: {architecture: arm, os: linux, variant: v7}',
      '',
    ].join('\n'));
    const r = ok(await runCli(['pushml', '--plain-http', spec]));
    const digest = digestLine(r);
    assert.deepEqual(JSON.parse(await readFile(join(root, 'v2/team/yaml/tags/list'), 'utf8')), { name: 'team/yaml', tags: ['2.0', 'latest'] });
    assert.equal(sha256(await readFile(join(root, 'v2/team/yaml/manifests/latest'))), digest);
  });

  test('bad static targets fail with one line and exit 2, writing nothing', async () => {
    for (const target of [`dir:${root}`, 'dir://team/app:1', `dir:${root}//Team/App:1`, `dir:${root}//team/app@sha256:${'0'.repeat(64)}`, 's3://Bad_Bucket//a:1', 's3://bucket//a:1?color=blue']) {
      const r = await runCli(['push', 'from-args', '--platforms', 'linux/amd64', '--template', 'r.example/app:ARCH', '--target', target]);
      assert.equal(r.code, 2, `${target}: ${r.stderr}`);
      assert.match(r.stderr, /^manifest: .*invalid/);
    }
  });
});

describe('index add and remove edit a list in a static store', { skip: registryAvailable() ? false : 'docker-registry or skopeo not installed', timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let work: string;
  const images: SeededImage[] = [];

  before(async () => {
    registry = await startRegistry('plain');
    work = await mkdtemp(join(tmpdir(), 'manifest-static-edit-'));
    for (const [i, platform] of PLATFORMS.entries()) {
      images.push(await registry.seedImage({ repository: 'src/app', tag: ['amd64', 'arm64v8', 'armv7'][i] ?? '', platform }));
    }
  });
  after(async () => {
    await registry?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test('a platform added, another removed: the tag file is each new list, its children are in the store', async () => {
    const root = join(work, 'www');
    const target = `dir:${root}//team/edit:1`;
    const listAt = async (): Promise<{ digest: string; children: string[] }> => {
      const bytes = await readFile(join(root, 'v2/team/edit/manifests/1'));
      return { digest: sha256(bytes), children: (JSON.parse(bytes.toString('utf8')) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest) };
    };
    digestLine(ok(await runCli(['--plain-http', 'push', 'from-args', '--platforms', 'linux/amd64,linux/arm64/v8', '--template', `${registry.host}/src/app:ARCHVARIANT`, '--target', target])));
    const added = digestLine(ok(await runCli(['--plain-http', 'index', 'add', target, `${registry.host}/src/app:armv7`])));
    assert.deepEqual(await listAt(), { digest: added, children: images.map((i) => i.digest) });
    const removed = digestLine(ok(await runCli(['--plain-http', 'index', 'remove', target, '--platform', 'linux/amd64'])));
    assert.deepEqual(await listAt(), { digest: removed, children: images.slice(1).map((i) => i.digest) });
    for (const image of images) assert.deepEqual(await readFile(join(root, 'v2/team/edit/manifests', image.digest)), Buffer.from(image.bytes));
    // inspect and digest read the store itself; tags (like blob, export) reads it through the web server, and says so.
    assert.equal((JSON.parse(ok(await runCli(['inspect', '--json', target])).text) as { digest: string }).digest, removed);
    assert.equal(ok(await runCli(['digest', target])).text, `${removed}\n`);
    assert.equal(ok(await runCli(['digest', '--platform', 'linux/arm/v7', target])).text, `${images[2]?.digest ?? ''}\n`);
    assertOneLineError(await runCli(['digest', `dir:${root}//team/edit:nope`]), 4, /tag nope not found/);
    assertOneLineError(await runCli(['digest', `dir:${join(work, 'no-such-root')}//team/edit:1`]), 4, /no static registry in dir:.*no-such-root/);
    assertOneLineError(await runCli(['tags', target]), 2, /static registry's files, which this command does not read: manifest inspect, digest/);
  });
});
