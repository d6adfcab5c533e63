// A manifest-tool user switching: their specs (the shapes of manifest-tool's README, integration tests and release
// spec, written anew in test/fixtures/manifest-tool/specs) and command lines, unchanged, against the real registry.
// Each row states the exit code and, where the list is pushed, its exact bytes; skopeo (an independent client)
// reads every result. For the byte-identical rows the expected bytes are those manifest-tool's code writes for
// the same spec and images (test/fixtures/manifest-tool/README.md says how they were derived), and their digest
// is stated here.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { registryAvailable, startRegistry, type SeedImageOptions, type TestRegistry } from '../helpers/registry.js';

const skip = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skip !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skip}`);

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = join(root, 'test', 'fixtures', 'manifest-tool');
const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

type Platform = SeedImageOptions['platform'];

/**
 * The images every row draws from: repository:tag and the platform its config declares. Each image's only layer is
 * its platform's text, so the image (and so each list's bytes) is the same on every run: children.json in the
 * fixtures lists the digests they get, which the lists there were derived from.
 */
const IMAGES: readonly [string, Platform][] = [
  ['mt/someimage:arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
  ['mt/someimage:amd64', { os: 'linux', architecture: 'amd64' }],
  ...(['ppc64le', 'amd64', 's390x', 'aarch64'] as const).flatMap((arch): [string, Platform][] => {
    const platform: Platform = arch === 'aarch64' ? { os: 'linux', architecture: 'arm64', variant: 'v8' } : { os: 'linux', architecture: arch };
    return [[`mt/alpine-tags:${arch}_alpine_latest`, platform], [`mt/${arch}_alpine:latest`, platform]];
  }),
  ...([
    ['ppc64le', { os: 'linux', architecture: 'ppc64le' }],
    ['amd64', { os: 'linux', architecture: 'amd64' }],
    ['i386', { os: 'linux', architecture: '386' }],
    ['s390x', { os: 'linux', architecture: 's390x' }],
    ['arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['arm_v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['arm_v6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
  ] as const).map(([name, platform]): [string, Platform] => [`mt/manifest-tool:alpine_linux_${name}_2.1.0`, platform]),
  ['mt/switcher:amd64', { os: 'linux', architecture: 'amd64' }],
  ['mt/switcher:arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
  ['mt/switcher:armv6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
  ['mt/switcher:ltsc2019', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5830' }],
  ['mt/multi:linux', { os: 'linux', architecture: 'amd64' }],
  ['mt/multi:windows', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5830' }],
];

/** The text of an image's only layer: its platform, so equal platforms share one blob across repositories. */
function contentOf(platform: Platform): string {
  return `manifest-tool fixture layer: ${platform.os}/${platform.architecture}${platform.variant === undefined ? '' : `/${platform.variant}`}${platform['os.version'] === undefined ? '' : ` ${platform['os.version']}`}\n`;
}

/**
 * The digests of the lists manifest-tool pushes for these specs and images (commit 69506a0 of its source): the
 * sha256 of the bytes in test/fixtures/manifest-tool/lists/, which were written following Go's encoding/json of
 * its types (test/fixtures/manifest-tool/README.md), not by this project's code.
 */
const MANIFEST_TOOL_DIGESTS: Readonly<Record<string, string>> = {
  'readme-someimage.docker': 'sha256:7040a2b31f110dd0f47a208166ba05459df3a1f470b28c9f81cfa19a9605797a',
  'registry-tag.docker': 'sha256:1922ac181832fe6328ae81481ad882480025ed594b1bebfe72f2def55caba707',
  'registry-annotated.oci': 'sha256:bc145f03ab9603497be784d9ffe757d82aac87ae50fc2fff771547d645d9c38c',
  'release-alpine.docker': 'sha256:a1ac29b2d9e92b1b1e37e5ce18ee74b3f5c98b18ead6916ce91e5b88dc71243c',
  'switcher.docker': 'sha256:82733e30b4336590267bac894ace153d72279ce911bcd5c7a39c4f7d05f8db10',
};

interface Row {
  name: string;
  /** A fixture spec (its __REGISTRY__ replaced by `registry`), or inline YAML text. */
  spec?: { file: string; registry: string } | { text: string };
  /** The command line as a manifest-tool user types it; SPEC is the spec file's path. */
  argv: string[];
  exit: number;
  /** Repository:tag the list goes to (read back with skopeo; absent when the run must push nothing). */
  target: string;
  /** The list expected, byte for byte, by its fixture name (the digest stated above). */
  list?: string;
  /** Else the platforms of the list expected, in order. */
  platforms?: Record<string, unknown>[];
  stderr?: RegExp;
  /** Further tags the list must have. */
  tags?: string[];
}

const ROWS: readonly Row[] = [
  {
    name: 'README spec, manifest-tool\'s own command line: arm64 gets v8 from its config, as manifest-tool writes it',
    spec: { file: 'readme-someimage.yaml', registry: 'mt' },
    argv: ['-plain-http', 'push', 'from-spec', 'SPEC'],
    exit: 0,
    target: 'mt/someimage:latest',
    list: 'readme-someimage.docker',
    tags: ['1.0.0', '1.0', '1'],
  },
  {
    name: 'test-registry-tag shape with --type docker before the subcommand, variant: v8 written out',
    spec: { file: 'registry-tag.yaml', registry: 'mt/alpine-tags' },
    argv: ['--plain-http=true', 'push', '--type', 'docker', 'from-spec', 'SPEC'],
    exit: 0,
    target: 'mt/alpine-tags:latest',
    list: 'registry-tag.docker',
  },
  {
    name: 'test-registry shape (annotations, other repositories) with manifest-tool\'s push --type oci from-spec',
    spec: { file: 'registry-annotated.yaml', registry: 'mt' },
    argv: ['-plain-http', '-debug=false', 'push', '-type', 'oci', 'from-spec', 'SPEC'],
    exit: 0,
    target: 'mt/alpine:latest',
    list: 'registry-annotated.oci',
  },
  {
    name: 'the same spec with --type docker is refused, as manifest-tool refuses it, and pushes nothing',
    spec: { file: 'registry-annotated.yaml', registry: 'mt' },
    argv: ['-plain-http', 'push', '--type', 'docker', 'from-spec', 'SPEC'],
    exit: 2,
    target: 'mt/alpine:refused',
    stderr: /^manifest: a Docker manifest list cannot carry annotations/,
  },
  {
    name: 'release spec shape: 386 unquoted, arm64/v8, arm v7 and v6',
    spec: { file: 'release-alpine.yaml', registry: 'mt' },
    argv: ['--plain-http', 'push', '-type=docker', 'from-spec', 'SPEC'],
    exit: 0,
    target: 'mt/manifest-tool:alpine-2.1.0',
    list: 'release-alpine.docker',
    tags: ['alpine'],
  },
  {
    name: 'a switcher\'s spec: tags: [], variant: "", platform: {}, {variant: v6}, os.version, an ignored key',
    spec: { file: 'switcher.yaml', registry: 'mt' },
    argv: ['-plain-http', 'push', 'from-spec', 'SPEC'],
    exit: 0,
    target: 'mt/switcher:1',
    list: 'switcher.docker',
    stderr: /^manifest: warning: .*\.yaml:5: \/description: unknown key 'description' ignored/,
  },
  {
    name: 'an os.version differing from the config in the revision only: a warning, the spec\'s value written',
    spec: { text: 'image: __REGISTRY__/mt/switcher:revision\nmanifests:\n  - image: __REGISTRY__/mt/switcher:ltsc2019\n    platform: {architecture: amd64, os: windows, osversion: 10.0.17763.1}\n' },
    argv: ['-plain-http', 'push', 'from-spec', 'SPEC'],
    exit: 0,
    target: 'mt/switcher:revision',
    platforms: [{ architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763.1' }],
    stderr: /^manifest: warning: .*os\.version 10\.0\.17763\.1 differs from the image's 10\.0\.17763\.5830 in the revision only/,
  },
  {
    name: 'an os.version of another build is a broken node: exit 2, nothing pushed',
    spec: { text: 'image: __REGISTRY__/mt/switcher:build\nmanifests:\n  - image: __REGISTRY__/mt/switcher:ltsc2019\n    platform: {architecture: amd64, os: windows, osversion: 10.0.20348.1}\n' },
    argv: ['-plain-http', 'push', 'from-spec', 'SPEC'],
    exit: 2,
    target: 'mt/switcher:build',
    stderr: /the spec says windows\(10\.0\.20348\.1\)\/amd64 but the image's config says windows\(10\.0\.17763\.5830\)\/amd64.*--no-verify-platform/,
  },
  {
    name: 'an arm variant contradicting the config: exit 2, nothing pushed',
    spec: { text: 'image: __REGISTRY__/mt/switcher:variant\nmanifests:\n  - image: __REGISTRY__/mt/switcher:armv6\n    platform: {variant: v7}\n' },
    argv: ['-plain-http', 'push', 'from-spec', 'SPEC'],
    exit: 2,
    target: 'mt/switcher:variant',
    stderr: /the spec says linux\/arm\/v7 but the image's config says linux\/arm\/v6/,
  },
  {
    name: 'a misspelt key (platfrom) is refused with "did you mean", nothing pushed',
    spec: { text: 'image: __REGISTRY__/mt/switcher:typo\nmanifests:\n  - image: __REGISTRY__/mt/switcher:amd64\n    platfrom: {architecture: amd64, os: linux}\n' },
    argv: ['-plain-http', 'push', 'from-spec', 'SPEC'],
    exit: 2,
    target: 'mt/switcher:typo',
    stderr: /\/manifests\/0\/platfrom: unknown key 'platfrom' \(did you mean 'platform'\?\)/,
  },
  {
    name: 'from-args with an OS-only template, Go-style flags',
    argv: ['-plain-http', 'push', '-type', 'docker', 'from-args', '-platforms', 'linux/amd64,windows/amd64', '-template', '__REGISTRY__/mt/multi:OS', '-target', '__REGISTRY__/mt/multi:1'],
    exit: 0,
    target: 'mt/multi:1',
    platforms: [{ architecture: 'amd64', os: 'linux' }, { architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763.5830' }],
  },
  {
    name: 'an OS-only template naming one image twice is refused',
    argv: ['-plain-http', 'push', 'from-args', '-platforms', 'linux/amd64,linux/arm64', '-template', '__REGISTRY__/mt/multi:OS', '-target', '__REGISTRY__/mt/multi:twice'],
    exit: 2,
    target: 'mt/multi:twice',
    stderr: /--template gives the same image .*mt\/multi:linux for linux\/amd64 and linux\/arm64/,
  },
];

describe('manifest-tool users switch: their specs and command lines against a real registry', { skip, timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  const children = new Map<string, { mediaType: string; digest: string; size: number }>();
  before(async () => {
    registry = await startRegistry('plain');
    dir = await mkdtemp(join(tmpdir(), 'manifest-tool-switch-'));
    for (const [name, platform] of IMAGES) {
      const [repository = '', tag = ''] = name.split(':');
      const image = await registry.seedImage({ repository, tag, platform, content: contentOf(platform) });
      children.set(name, { mediaType: image.mediaType, digest: image.digest, size: image.size });
    }
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('the images are the ones the fixture lists were derived from (children.json)', async () => {
    const expected = JSON.parse(await readFile(join(fixtures, 'children.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.fromEntries(children), expected);
  });

  test('each fixture list hashes to the digest stated for it', async () => {
    for (const [name, digest] of Object.entries(MANIFEST_TOOL_DIGESTS)) {
      assert.equal(sha256(await readFile(join(fixtures, 'lists', `${name}.json`))), digest, name);
    }
  });

  test('inspect --expand-config: each image\'s config in the text and in --json; Windows lines aligned', async () => {
    const oci = 'application/vnd.oci.image.index.v1+json';
    const platform: Platform = { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5830', 'os.features': ['win32k'] };
    const image = await registry.seedImage({
      repository: 'mt/inspect', platform, format: 'oci', content: contentOf(platform),
      configFields: { created: '2026-03-01T00:00:00Z', config: { Entrypoint: ['/app'], Cmd: ['--serve'], Env: ['A=1', 'B=2'], Labels: { 'org.example.team': 'infra' } } },
    });
    const attestation = await registry.seedImage({ repository: 'mt/inspect', platform: { os: 'unknown', architecture: 'unknown' }, format: 'oci', content: 'an attestation\n' });
    const entry = (m: { mediaType: string; digest: string; size: number }): Record<string, unknown> => ({ mediaType: m.mediaType, digest: m.digest, size: m.size });
    const index = {
      schemaVersion: 2,
      mediaType: oci,
      manifests: [
        { ...entry(image), annotations: { 'org.example.entry': 'main' }, platform },
        { ...entry(attestation), annotations: { 'vnd.docker.reference.digest': image.digest, 'vnd.docker.reference.type': 'attestation-manifest' }, platform: { architecture: 'unknown', os: 'unknown' } },
      ],
      annotations: { 'org.opencontainers.image.version': '1' },
    };
    assert.equal((await registry.putManifest('mt/inspect', '1', Buffer.from(JSON.stringify(index, null, 2)), oci)).status, 201);

    const text = await runCli(['-plain-http', 'inspect', '-expand-config', `${registry.host}/mt/inspect:1`]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.text.split('\n');
    // Every "- Label:" line of a platform has its colon in one column, Windows' too.
    const platformColons = lines.filter((l) => /^\d\s+- +(OS|Arch|Variant|Feature|OS Vers|OS Feat):/.test(l)).map((l) => l.indexOf(':'));
    assert.equal(platformColons.length, 2 * 6 - 2, text.text);
    assert.equal(new Set(platformColons).size, 1, text.text);
    assert.match(text.text, /^1\s+- OS Vers: 10\.0\.17763\.5830$/m);
    assert.match(text.text, /^1\s+- OS Feat: win32k$/m);
    assert.match(text.text, /^\s+Annotations:\n\s+- org\.opencontainers\.image\.version: 1$/m);
    assert.match(text.text, /^1\s+- org\.example\.entry: main$/m);
    assert.match(text.text, new RegExp(`^2\\s+Attestation: for entry 1 \\(windows\\(10\\.0\\.17763\\.5830\\)/amd64\\), ${image.digest}$`, 'm'));
    for (const pattern of [/^1\s+Created: 2026-03-01T00:00:00Z$/m, /^1\s+Entrypoint: \["\/app"\]$/m, /^1\s+Cmd: \["--serve"\]$/m, /^1\s+Env: A=1\n1\s+B=2$/m, /^1\s+Labels: org\.example\.team=infra$/m, /^1\s+OS Version: 10\.0\.17763\.5830$/m]) {
      assert.match(text.text, pattern);
    }

    const json = await runCli(['-plain-http', 'inspect', '--json', '--expand-config', `${registry.host}/mt/inspect:1`]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.text) as { manifests: { image?: { configDetails?: unknown } }[] };
    assert.deepEqual(doc.manifests[0]?.image?.configDetails, {
      created: '2026-03-01T00:00:00Z', entrypoint: ['/app'], cmd: ['--serve'], env: ['A=1', 'B=2'], labels: { 'org.example.team': 'infra' }, 'os.version': '10.0.17763.5830',
    });
    const plain = await runCli(['-plain-http', 'inspect', '--json', `${registry.host}/mt/inspect:1`]);
    assert.equal((JSON.parse(plain.text) as { manifests: { image?: { configDetails?: unknown } }[] }).manifests[0]?.image?.configDetails, undefined);

    const raw = await runCli(['-plain-http', 'inspect', '--raw', '--expand-config', `${registry.host}/mt/inspect:1`]);
    assert.equal(raw.code, 2);
    assert.match(raw.stderr, /^manifest: --raw prints the registry's bytes unchanged.*use --json --expand-config/);
  });

  for (const row of ROWS) {
    test(row.name, async () => {
      const substitute = (text: string, prefix: string): string => text.replaceAll('__REGISTRY__', prefix);
      let specPath = '';
      if (row.spec !== undefined) {
        specPath = join(dir, `${row.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.yaml`);
        const text = 'file' in row.spec
          ? substitute(await readFile(join(fixtures, 'specs', row.spec.file), 'utf8'), `${registry.host}/${row.spec.registry}`)
          : substitute(row.spec.text, registry.host);
        await writeFile(specPath, text);
      }
      const argv = row.argv.map((arg) => (arg === 'SPEC' ? specPath : substitute(arg, registry.host)));
      const r = await runCli(argv);
      assert.equal(r.code, row.exit, `exit ${r.code}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      if (row.stderr !== undefined) assert.match(r.stderr, row.stderr);
      const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/${row.target}`]);
      if (row.exit !== 0) {
        assert.notEqual(raw.code, 0, `${row.target} must not exist after a refused push`);
        return;
      }
      assert.equal(raw.code, 0, raw.stderr);
      const digest = sha256(raw.stdout);
      assert.match(r.text, new RegExp(`^Digest: ${digest} ${Buffer.byteLength(raw.stdout)}\n$`));
      if (row.list !== undefined) {
        const expected = await readFile(join(fixtures, 'lists', `${row.list}.json`), 'utf8');
        assert.equal(raw.stdout, expected, 'the list is byte for byte the one manifest-tool pushes');
        assert.equal(digest, MANIFEST_TOOL_DIGESTS[row.list]);
      }
      if (row.platforms !== undefined) {
        const list = JSON.parse(raw.stdout) as { manifests: { platform: Record<string, unknown> }[] };
        assert.deepEqual(list.manifests.map((m) => m.platform), row.platforms);
      }
      for (const tag of row.tags ?? []) {
        const other = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/${row.target.split(':')[0] ?? ''}:${tag}`]);
        assert.equal(other.code, 0, other.stderr);
        assert.equal(sha256(other.stdout), digest, tag);
      }
    });
  }
});

describe('--insecure reaches the token realm on another port', { skip, timeout: 180_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let spec: string;
  before(async () => {
    registry = await startRegistry('token');
    dir = await mkdtemp(join(tmpdir(), 'manifest-tool-insecure-'));
    const amd64: Platform = { os: 'linux', architecture: 'amd64' };
    const arm64: Platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };
    await registry.seedImage({ repository: 'mt/secure', tag: 'amd64', platform: amd64, content: contentOf(amd64) });
    await registry.seedImage({ repository: 'mt/secure', tag: 'arm64', platform: arm64, content: contentOf(arm64) });
    spec = join(dir, 'f.yaml');
    await writeFile(spec, [
      `image: ${registry.host}/mt/secure:1`,
      'manifests:',
      `  - {image: ${registry.host}/mt/secure:amd64, platform: {architecture: amd64, os: linux}}`,
      `  - {image: ${registry.host}/mt/secure:arm64, platform: {architecture: arm64, os: linux}}`,
      '',
    ].join('\n'));
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('the realm is on another port than the registry', () => {
    assert.notEqual(new URL(registry.tokenUrl ?? '').host, registry.host);
  });

  for (const flags of [['-insecure'], ['--insecure-host', 'HOST']]) {
    test(`${flags.join(' ')} -username … push from-spec: the token service's certificate is not verified either`, async () => {
      const args = flags.map((f) => (f === 'HOST' ? registry.host : f));
      const r = await runCli([...args, '-username', registry.username ?? '', '--password-stdin', 'push', 'from-spec', spec], { stdin: registry.password ?? '' });
      assert.equal(r.code, 0, r.stderr);
      const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/mt/secure:1`]);
      assert.equal(raw.code, 0, raw.stderr);
      assert.match(r.text, new RegExp(`^Digest: ${sha256(raw.stdout)} `));
    });
  }

  test('a registry trusted by its certs.d while its realm is not: exit 6, the hint names the realm', async () => {
    const certs = join(dir, 'certs.d');
    await mkdir(join(certs, registry.host), { recursive: true });
    await copyFile(registry.caFile ?? '', join(certs, registry.host, 'ca.crt'));
    const realm = new URL(registry.tokenUrl ?? '').host;
    const r = await runCli(['-username', registry.username ?? '', '--password-stdin', 'inspect', `${registry.host}/mt/secure:amd64`], {
      stdin: registry.password ?? '',
      env: { MANIFEST_CERTS_DIR: certs },
    });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, new RegExp(`^manifest: .*fetching a token from ${realm.replaceAll('.', '\\.')}, the token realm of ${registry.host.replaceAll('.', '\\.')}`, 'm'));
    assert.match(r.stderr, new RegExp(`hint: ${realm.replaceAll('.', '\\.')} is the token realm of ${registry.host.replaceAll('.', '\\.')}`));
  });
});
