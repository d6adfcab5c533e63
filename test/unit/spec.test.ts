// The spec layer: YAML specs (manifest-tool's format) and from-args flags to PushSpecs, every problem with its line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exitCodeOf, isManifestError } from '../../src/errors.js';
import { specFromArgs, type SpecFromArgsOptions } from '../../src/spec/from-args.js';
import { loadSpecFiles, MAX_ISSUES_PER_FILE, MAX_SPEC_BYTES, parseSpecText } from '../../src/spec/load.js';
import { formatSpecIssue, isSpecError, type SpecError } from '../../src/spec/spec-error.js';
import type { PushSpec } from '../../src/spec/types.js';
import type { Logger } from '../../src/log.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/specs/${name}`, import.meta.url));
const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

function specErrorOf(run: () => unknown): SpecError {
  try {
    run();
  } catch (err) {
    if (isSpecError(err)) return err;
    assert.fail(`expected a SpecError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
  assert.fail('expected a SpecError, got specs');
}

async function specErrorOfAsync(run: () => Promise<unknown>): Promise<SpecError> {
  try {
    await run();
  } catch (err) {
    if (isSpecError(err)) return err;
    assert.fail(`expected a SpecError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
  assert.fail('expected a SpecError, got specs');
}

/** Asserts the house shape of a SpecError and that each pattern matches one of its formatted issues. */
function assertIssues(err: SpecError, patterns: readonly RegExp[], count?: number): void {
  assert.equal(err.code, 'INVALID_INPUT');
  assert.equal(exitCodeOf(err.code), 2);
  const formatted = err.issues.map(formatSpecIssue);
  assert.deepEqual(err.lines, formatted);
  const first = formatted[0] ?? '';
  assert.ok(first !== '', 'a SpecError has at least one issue');
  const more = formatted.length - 1;
  assert.equal(err.message, more === 0 ? first : `${first} (and ${more} more problem${more > 1 ? 's' : ''})`);
  for (const issue of formatted) assert.doesNotMatch(issue, /\n/, 'an issue is one line');
  for (const pattern of patterns) {
    assert.ok(formatted.some((issue) => pattern.test(issue)), `no issue matches ${String(pattern)}; issues:\n  ${formatted.join('\n  ')}`);
  }
  if (count !== undefined) assert.equal(formatted.length, count, `issues:\n  ${formatted.join('\n  ')}`);
}

const HEAD = ['image: r.example/app:1.0', 'manifests:'];

/** Runs `parse` with a logger that keeps its warnings. */
function withWarnings<T>(parse: (logger: Logger) => T): { result: T; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = { warn: (text) => { warnings.push(text); }, debug: () => undefined };
  return { result: parse(logger), warnings };
}
const DIGEST = `sha256:${'a'.repeat(64)}`;

function billionLaughs(): string {
  const names = 'abcdefghij';
  const out = ['lol0: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < names.length; i += 1) {
    out.push(`lol${i}: &${names[i]} [${Array.from({ length: 9 }, () => `*${names[i - 1]}`).join(', ')}]`);
  }
  return yaml(...out, 'image: r.example/app:1.0', 'manifests: *j');
}

describe('parseSpecText refuses bad specs, naming file, line and path', () => {
  const cases: { name: string; text: string; issues: RegExp[]; count?: number }[] = [
    {
      name: 'YAML syntax error: an unclosed flow sequence',
      text: yaml('image: r.example/app:1.0', 'tags: [a, b', 'manifests:', '  - image: r.example/app:amd64'),
      issues: [/^spec\.yaml:3:\d+: invalid YAML: missed comma between flow collection entries$/],
      count: 1,
    },
    {
      name: 'YAML syntax error: bad indentation',
      text: yaml('image: r.example/app:1.0', '  tags: [a]', 'manifests: []'),
      issues: [/^spec\.yaml:2:\d+: invalid YAML: bad indentation of a mapping entry$/],
      count: 1,
    },
    {
      name: 'tab indentation',
      text: yaml(...HEAD, '  - image: r.example/app:amd64', '    platform:', '\tos: linux'),
      issues: [/^spec\.yaml:5:1: invalid YAML: tab characters must not be used in indentation$/],
      count: 1,
    },
    {
      name: 'missing image',
      text: yaml('tags: [latest]', 'manifests:', '  - image: r.example/app:amd64'),
      issues: [/^spec\.yaml:1: must have required property 'image'$/],
      count: 1,
    },
    {
      name: 'missing manifests',
      text: yaml('image: r.example/app:1.0', 'tags: [latest]'),
      issues: [/^spec\.yaml:1: must have required property 'manifests'$/],
      count: 1,
    },
    {
      name: 'empty manifests',
      text: yaml('image: r.example/app:1.0', 'manifests: []'),
      issues: [/^spec\.yaml:2: \/manifests: must list at least one image$/],
      count: 1,
    },
    {
      name: 'manifests not a list',
      text: yaml('image: r.example/app:1.0', 'manifests: r.example/app:amd64'),
      issues: [/^spec\.yaml:2: \/manifests: must be a list, not a string$/],
      count: 1,
    },
    {
      name: 'an empty architecture, on the line of the nested key',
      text: yaml(
        ...HEAD,
        '  - image: r.example/app:amd64',
        '    platform:',
        '      architecture: amd64',
        '      os: linux',
        '  - image: r.example/app:arm64',
        '    platform:',
        '      os: linux',
        '      architecture: ""',
      ),
      issues: [/^spec\.yaml:10: \/manifests\/1\/platform\/architecture: must not be empty$/],
      count: 1,
    },
    {
      name: 'unknown top-level key close to a known one',
      text: yaml('image: r.example/app:1.0', 'manifest:', '  - image: r.example/app:amd64'),
      issues: [/^spec\.yaml:1: must have required property 'manifests'$/, /^spec\.yaml:2: \/manifest: unknown key 'manifest' \(did you mean 'manifests'\?\)$/],
      count: 2,
    },
    {
      name: 'tag for tags',
      text: yaml('image: r.example/app:1.0', 'tag: [latest]', 'manifests: [{image: r.example/app:amd64}]'),
      issues: [/^spec\.yaml:2: \/tag: unknown key 'tag' \(did you mean 'tags'\?\)$/],
      count: 1,
    },
    {
      name: 'misspelt platform key of an entry',
      text: yaml(...HEAD, '  - image: r.example/app:amd64', '    platfrom:', '      architecture: amd64', '      os: linux'),
      issues: [/^spec\.yaml:4: \/manifests\/0\/platfrom: unknown key 'platfrom' \(did you mean 'platform'\?\)$/],
      count: 1,
    },
    {
      name: 'unknown platform key in a flow-style entry',
      text: yaml(...HEAD, '  - image: r.example/app:amd64', '  - {image: r.example/app:arm, platform: {architecture: arm, os: linux, varient: v7}}'),
      issues: [/^spec\.yaml:4: \/manifests\/1\/platform\/varient: unknown key 'varient' \(did you mean 'variant'\?\)$/],
      count: 1,
    },
    {
      name: 'osVersion and arch: suggestions for case and for a prefix',
      text: yaml(...HEAD, '  - image: r.example/app:win', '    platform:', '      os: windows', '      arch: amd64', '      osVersion: 10.0.17763.1'),
      issues: [
        /^spec\.yaml:6: \/manifests\/0\/platform\/arch: unknown key 'arch' \(did you mean 'architecture'\?\)$/,
        /^spec\.yaml:7: \/manifests\/0\/platform\/osVersion: unknown key 'osVersion' \(did you mean 'osversion'\?\)$/,
      ],
      count: 2,
    },
    {
      name: 'unknown architecture',
      text: yaml(...HEAD, '  - image: r.example/app:amd64', '    platform:', '      architecture: amd65', '      os: linux'),
      issues: [/^spec\.yaml:4: \/manifests\/0\/platform: invalid platform "linux\/amd65": unknown architecture "amd65"/],
      count: 1,
    },
    {
      name: 'unknown os',
      text: yaml(...HEAD, '  - image: r.example/app:amd64', '    platform: {architecture: amd64, os: linx}'),
      issues: [/^spec\.yaml:4: \/manifests\/0\/platform: invalid platform "linx\/amd64": unknown os "linx"/],
      count: 1,
    },
    {
      name: 'arm variant v9',
      text: yaml(...HEAD, '  - image: r.example/app:arm', '    platform: {architecture: arm, os: linux, variant: v9}'),
      issues: [/^spec\.yaml:4: \/manifests\/0\/platform: invalid platform "linux\/arm\/v9": variant "v9" is not one of v5, v6, v7 or v8 for arm$/],
      count: 1,
    },
    {
      name: 'arm64 variant v7',
      text: yaml(...HEAD, '  - image: r.example/app:arm64', '    platform: {architecture: arm64, os: linux, variant: v7}'),
      issues: [/^spec\.yaml:4: \/manifests\/0\/platform: invalid platform "linux\/arm64\/v7": variant "v7"/],
      count: 1,
    },
    {
      name: 'duplicate platform',
      text: yaml(
        ...HEAD,
        '  - image: r.example/app:amd64',
        '    platform: {architecture: amd64, os: linux}',
        '  - image: r.example/app:amd64-again',
        '    platform: {architecture: x86_64, os: linux}',
      ),
      issues: [/^spec\.yaml:6: \/manifests\/1\/platform: platform linux\/x86_64 is declared twice: here and at \/manifests\/0 \(line 3\) as linux\/amd64$/],
      count: 1,
    },
    {
      name: 'duplicate platform: armhf is arm/v7',
      text: yaml(
        ...HEAD,
        '  - image: r.example/app:armhf',
        '    platform: {architecture: armhf, os: linux}',
        '  - image: r.example/app:armv7',
        '    platform: {architecture: arm, os: linux, variant: v7}',
      ),
      issues: [/^spec\.yaml:6: \/manifests\/1\/platform: platform linux\/arm\/v7 is declared twice: here and at \/manifests\/0 \(line 3\)$/],
      count: 1,
    },
    {
      // Caught before any request: arm64 compares as arm64/v8 whatever its config says.
      name: 'duplicate platform: arm64 is arm64/v8',
      text: yaml(
        ...HEAD,
        '  - image: r.example/app:arm64',
        '    platform: {architecture: arm64, os: linux}',
        '  - image: r.example/app:arm64v8',
        '    platform: {architecture: arm64, os: linux, variant: v8}',
      ),
      issues: [/^spec\.yaml:6: \/manifests\/1\/platform: platform linux\/arm64\/v8 is declared twice: here and at \/manifests\/0 \(line 3\) as linux\/arm64$/],
      count: 1,
    },
    {
      name: 'invalid source image reference',
      text: yaml(...HEAD, '  - image: r.example/App:amd64'),
      issues: [/^spec\.yaml:3: \/manifests\/0\/image: invalid reference "r\.example\/App:amd64": repository names must be lower case \("App"\)$/],
      count: 1,
    },
    {
      name: 'target pinned to a digest',
      text: yaml(`image: r.example/app@${DIGEST}`, 'manifests: [{image: r.example/app:amd64}]'),
      issues: [/^spec\.yaml:1: \/image: invalid target "r\.example\/app@sha256:a+": a list is pushed to a tag, not to a digest$/],
      count: 1,
    },
    {
      name: 'invalid tag',
      text: yaml('image: r.example/app:1.0', 'tags:', '  - latest', '  - v1+build', 'manifests: [{image: r.example/app:amd64}]'),
      issues: [/^spec\.yaml:4: \/tags\/1: tag "v1\+build" may hold only letters, digits/],
      count: 1,
    },
    {
      name: 'tags not a list',
      text: yaml('image: r.example/app:1.0', 'tags: latest', 'manifests: [{image: r.example/app:amd64}]'),
      issues: [/^spec\.yaml:2: \/tags: must be a list, not a string$/],
      count: 1,
    },
    {
      name: 'annotations not a map',
      text: yaml('image: r.example/app:1.0', 'annotations: [a=b]', 'manifests: [{image: r.example/app:amd64}]'),
      issues: [/^spec\.yaml:2: \/annotations: must be a mapping, not a list$/],
      count: 1,
    },
    {
      name: 'annotation value not a string, and an empty annotation key',
      text: yaml('image: r.example/app:1.0', 'annotations:', '  a: [x]', '  "": y', 'manifests: [{image: r.example/app:amd64}]'),
      issues: [/^spec\.yaml:3: \/annotations\/a: must be a string, not a list$/, /^spec\.yaml:4: \/annotations\/: an annotation key must not be empty$/],
      count: 2,
    },
    {
      name: 'platform written as a string',
      text: yaml(...HEAD, '  - image: r.example/app:amd64', '    platform: linux/amd64'),
      issues: [/^spec\.yaml:4: \/manifests\/0\/platform: must be a mapping, not a string$/],
      count: 1,
    },
    {
      name: 'osfeatures not a list',
      text: yaml(...HEAD, '  - image: r.example/app:win', '    platform: {architecture: amd64, os: windows, osfeatures: win32k}'),
      issues: [/^spec\.yaml:4: \/manifests\/0\/platform\/osfeatures: must be a list, not a string$/],
      count: 1,
    },
    {
      name: 'image without a value',
      text: yaml('image:', 'manifests: [{image: r.example/app:amd64}]'),
      issues: [/^spec\.yaml:1: \/image: must be a string, but is empty$/],
      count: 1,
    },
    {
      name: 'an entry that is a string, and an empty entry, each on its own line',
      text: yaml(...HEAD, '  - r.example/app:amd64', '  -', '  - image: r.example/app:arm64'),
      issues: [/^spec\.yaml:3: \/manifests\/0: must be a mapping, not a string$/, /^spec\.yaml:4: \/manifests\/1: must be a mapping, but is empty$/],
      count: 2,
    },
    {
      name: 'a document that is a list',
      text: yaml('- image: r.example/app:1.0'),
      issues: [/^spec\.yaml:1: the document must be a mapping \(with image and manifests keys\), not a list$/],
      count: 1,
    },
    {
      name: 'duplicated key',
      text: yaml('image: r.example/app:1.0', 'manifests: [{image: r.example/app:amd64}]', 'image: r.example/app:2.0'),
      issues: [/^spec\.yaml:3:\d+: invalid YAML: duplicated mapping key$/],
      count: 1,
    },
    {
      name: 'alias to an undefined anchor',
      text: yaml(...HEAD, '  - image: r.example/app:amd64', '    platform: *linux'),
      issues: [/^spec\.yaml:4:\d+: invalid YAML: unidentified alias "linux"$/],
      count: 1,
    },
    {
      name: 'billion laughs is refused, not expanded',
      text: billionLaughs(),
      issues: [/^spec\.yaml:1: the document has more than 10000 values \(counting each use of a YAML alias\)$/],
      count: 1,
    },
    {
      name: 'deep nesting is refused',
      text: yaml(`image: ${'['.repeat(10_000)}${']'.repeat(10_000)}`, 'manifests: [{image: r.example/app:amd64}]'),
      issues: [/^spec\.yaml:1:\d+: invalid YAML: nesting is deeper than 64 levels$/],
      count: 1,
    },
    {
      name: 'an alias inside its own anchor (a cycle) is refused',
      text: yaml('image: r.example/app:1.0', 'manifests: &m [*m]'),
      issues: [/^spec\.yaml:1: nesting is deeper than 64 levels$/],
      count: 1,
    },
    {
      name: 'empty text',
      text: '',
      issues: [/^spec\.yaml: holds no spec: the file is empty or only comments$/],
      count: 1,
    },
    {
      name: 'only comments and document markers',
      text: yaml('# nothing yet', '---', '---'),
      issues: [/^spec\.yaml: holds no spec/],
      count: 1,
    },
    {
      name: 'over 1 MiB',
      text: yaml('image: r.example/app:1.0', `# ${'x'.repeat(MAX_SPEC_BYTES)}`, 'manifests: [{image: r.example/app:amd64}]'),
      issues: [/^spec\.yaml: is larger than 1 MiB, the limit for a spec file$/],
      count: 1,
    },
    {
      name: 'a null byte',
      text: yaml('image: r.example/app:1.0\0', 'manifests: [{image: r.example/app:amd64}]'),
      issues: [/^spec\.yaml:1:\d+: invalid YAML: null byte is not allowed in input$/],
      count: 1,
    },
    {
      name: 'CRLF line endings keep lines right',
      text: 'image: r.example/app:1.0\r\nmanifests:\r\n  - image: r.example/app:amd64\r\n    platform:\r\n      os: linux\r\n      architecture: ""\r\n',
      issues: [/^spec\.yaml:6: \/manifests\/0\/platform\/architecture: must not be empty$/],
      count: 1,
    },
    {
      name: 'a multi-line flow mapping: the line of the nested key',
      text: yaml(
        'image: r.example/app:1.0',
        'manifests: [',
        '  {image: r.example/app:amd64,',
        '   platform: {os: linux,',
        '              architecture: amd65}},',
        ']',
      ),
      issues: [/^spec\.yaml:4: \/manifests\/0\/platform: invalid platform "linux\/amd65"/],
      count: 1,
    },
    {
      name: 'every problem of a document is reported, in line order',
      text: yaml(
        `image: r.example/app@${DIGEST}`,
        'tags: [latest, "-bad"]',
        'manifests:',
        '  - image: r.example/App:amd64',
        '    platform: {architecture: amd64, os: linux}',
        '  - image: r.example/app:amd64-2',
        '    platform: {architecture: amd64, os: linux, extra: x}',
        '  - image: r.example/app:arm',
        '    platform: {architecture: arm, os: linux, variant: v9}',
      ),
      issues: [
        /^spec\.yaml:1: \/image: invalid target/,
        /^spec\.yaml:2: \/tags\/1: tag "-bad"/,
        /^spec\.yaml:4: \/manifests\/0\/image: invalid reference/,
        /^spec\.yaml:7: \/manifests\/1\/platform: platform linux\/amd64 is declared twice: here and at \/manifests\/0 \(line 4\)$/,
        /^spec\.yaml:9: \/manifests\/2\/platform: invalid platform "linux\/arm\/v9"/,
      ],
      count: 5,
    },
  ];

  for (const c of cases) {
    test(c.name, { timeout: 30_000 }, () => {
      const err = specErrorOf(() => parseSpecText(c.text, { file: 'spec.yaml' }));
      assertIssues(err, c.issues, c.count);
      const lines = err.issues.map((issue) => issue.line ?? 0);
      assert.deepEqual(lines, [...lines].sort((a, b) => a - b), 'issues are in line order');
    });
  }

  test('a file of many bad documents stops after MAX_ISSUES_PER_FILE problems', () => {
    const err = specErrorOf(() => parseSpecText('x: y\n---\n'.repeat(10_000), { file: 'spec.yaml' }));
    assert.equal(err.issues.length, MAX_ISSUES_PER_FILE + 1);
    assert.match(formatSpecIssue(err.issues[MAX_ISSUES_PER_FILE] ?? { file: '', path: '', message: '' }), /^spec\.yaml: too many problems: stopped after 100$/);
  });

  test('an osversion on a linux platform is kept, with a warning', () => {
    const { warnings, result } = withWarnings((logger) => parseSpecText(yaml('image: r.example/app:1.0', 'manifests:', '  - image: r.example/app:amd64',
      '    platform: {architecture: amd64, os: linux, osversion: 10.0.17763.1}'), { file: 'spec.yaml', logger }));
    assert.deepEqual(warnings, ['spec.yaml:4: /manifests/0/platform: osversion "10.0.17763.1" on linux: only Windows images are matched by it']);
    assert.equal(result[0]?.manifests[0]?.platform?.['os.version'], '10.0.17763.1');
  });

  test('__proto__ is an unknown key, ignored with a warning: it pollutes nothing', () => {
    const { warnings } = withWarnings((logger) => parseSpecText(yaml('image: r.example/app:1.0', '__proto__: {polluted: yes}', 'manifests: [{image: r.example/app:amd64}]'), { file: 'spec.yaml', logger }));
    assert.deepEqual(warnings, ["spec.yaml:2: /__proto__: unknown key '__proto__' ignored (known keys: image, tags, annotations, manifests)"]);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  test('bytes that are not UTF-8 are refused', () => {
    const err = specErrorOf(() => parseSpecText(Uint8Array.from([0x69, 0x6d, 0x3a, 0x20, 0xff, 0xfe, 0x00, 0x81, 0x0a]), { file: 'spec.bin' }));
    assertIssues(err, [/^spec\.bin: is not UTF-8 text/], 1);
  });
});

describe('parseSpecText accepts good specs', () => {
  test('FAILSAFE: every scalar stays the string it was written as', () => {
    const [spec] = parseSpecText(yaml(
      'image: r.example/app:2.0',
      'tags: [1.10, 2, true, null, 0x1F]',
      'manifests:',
      '  - image: r.example/app:386',
      '    platform: {architecture: 386, os: linux}',
    ), { file: 'spec.yaml' });
    assert.deepEqual(spec?.tags, ['1.10', '2', 'true', 'null', '0x1F']);
    assert.deepEqual(spec?.manifests[0]?.platform, { os: 'linux', architecture: '386' });
  });

  test('tags: duplicates and the target\'s own tag are dropped, order kept', () => {
    const [spec] = parseSpecText(yaml('image: r.example/app:1.0', 'tags: [latest, "1.0", "1", latest]', 'manifests: [{image: r.example/app:amd64}]'), { file: 'spec.yaml' });
    assert.deepEqual(spec?.tags, ['latest', '1']);
  });

  test('platforms are normalised: aarch64 is arm64, arm64/v9 keeps its variant; an entry may omit its platform', () => {
    const [spec] = parseSpecText(yaml(
      ...HEAD,
      '  - image: r.example/app:arm64',
      '    platform: {architecture: aarch64, os: linux}',
      '  - image: r.example/app:arm64-v9',
      '    platform: {architecture: arm64, os: linux, variant: v9}',
      '  - image: r.example/app:any',
      '    annotations: {org.example.note: from config}',
    ), { file: 'spec.yaml' });
    assert.deepEqual(spec?.manifests.map((entry) => entry.platform), [
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm64', variant: 'v9' },
      undefined,
    ]);
    assert.deepEqual(spec?.manifests[2]?.annotations, { 'org.example.note': 'from config' });
    assert.deepEqual(spec?.manifests.map((entry) => entry.line), [3, 5, 7]);
  });

  test('anchors and aliases used legitimately', () => {
    const [spec] = parseSpecText(yaml(
      'image: r.example/app:1.0',
      'annotations: &common',
      '  org.opencontainers.image.source: https://git.example/app',
      'manifests:',
      '  - image: r.example/app:amd64',
      '    platform: &linux {os: linux, architecture: amd64}',
      '    annotations: *common',
      '  - image: r.example/app:amd64-old',
      '    annotations: *common',
    ), { file: 'spec.yaml' });
    assert.deepEqual(spec?.annotations, { 'org.opencontainers.image.source': 'https://git.example/app' });
    assert.deepEqual(spec?.manifests.map((entry) => entry.annotations), [spec?.annotations, spec?.annotations]);
    assert.notEqual(spec?.manifests[0]?.annotations, spec?.manifests[1]?.annotations, 'aliased values are copies');
  });

  test('a byte-order mark and UTF-8 bytes are accepted', () => {
    const bytes = new TextEncoder().encode(`\uFEFF${yaml('image: r.example/app:1.0', 'annotations: {org.example.title: "Café ☕"}', 'manifests: [{image: r.example/app:amd64}]')}`);
    const [spec] = parseSpecText(bytes, { file: 'spec.yaml' });
    assert.deepEqual(spec?.annotations, { 'org.example.title': 'Café ☕' });
    assert.equal(spec?.source?.line, 1);
  });
});

describe('loadSpecFiles', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifest-spec-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the prometheus layout: amd64, arm64 and arm/v7, with lines', async () => {
    const specs = await loadSpecFiles([fixture('prometheus.yaml')]);
    assert.equal(specs.length, 1);
    const spec = specs[0] as PushSpec;
    assert.equal(spec.target.toString(), 'r.example/prom/prometheus:v2.53.0');
    assert.deepEqual(spec.tags, ['latest', 'v2.53']);
    assert.equal(spec.annotations, undefined);
    assert.deepEqual(spec.manifests.map((entry) => [entry.image.toString(), entry.platform, entry.line]), [
      ['r.example/prom/prometheus:v2.53.0-amd64', { os: 'linux', architecture: 'amd64' }, 6],
      ['r.example/prom/prometheus:v2.53.0-arm64', { os: 'linux', architecture: 'arm64' }, 10],
      ['r.example/prom/prometheus:v2.53.0-armv7', { os: 'linux', architecture: 'arm', variant: 'v7' }, 14],
    ]);
    assert.deepEqual(spec.source, { file: fixture('prometheus.yaml'), document: 0, line: 3 });
  });

  test('a multi-document file is a batch (a trailing "---" adds nothing)', async () => {
    const specs = await loadSpecFiles(['batch.yaml'], { baseDir: fixture('.') });
    assert.deepEqual(specs.map((spec) => [spec.target.toString(), spec.source]), [
      ['r.example/app:1.0', { file: 'batch.yaml', document: 0, line: 2 }],
      ['r.example/tool:2', { file: 'batch.yaml', document: 1, line: 7 }],
    ]);
    assert.deepEqual(specs[1]?.annotations, { 'org.opencontainers.image.source': 'https://git.example/tool' });
    assert.deepEqual(specs[1]?.manifests[0]?.platform, { os: 'linux', architecture: '386' });
  });

  test('windows/amd64 twice with different osversion is fine; osversion and osfeatures map to OCI fields', async () => {
    const [spec] = await loadSpecFiles(['windows.yaml'], { baseDir: fixture('.') });
    assert.deepEqual(spec?.manifests.map((entry) => entry.platform), [
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5830' },
      { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2461', 'os.features': ['win32k'] },
    ]);
  });

  test('two specs of a batch writing one tag are refused: which list it ends on would depend on timing', () => {
    const err = specErrorOf(() => parseSpecText(yaml(
      'image: r.example/app:1',
      'manifests: [{image: r.example/app:amd64}]',
      '---',
      'image: r.example/app:2',
      'tags: ["1"]',
      'manifests: [{image: r.example/app:arm64}]',
    ), { file: 'spec.yaml' }));
    assertIssues(err, [/^spec\.yaml:4: tag r\.example\/app:1 is also written by the spec at spec\.yaml:1: one tag, one list per batch$/], 1);
  });

  test('a bad document of a batch is named by its own line in the file', async () => {
    const err = await specErrorOfAsync(() => loadSpecFiles(['bad-batch.yaml'], { baseDir: fixture('.') }));
    assertIssues(err, [/^bad-batch\.yaml:9: \/manifests\/0\/platform: invalid platform "linux\/arm\/v9"/], 1);
  });

  test('problems of all files are collected into one SpecError', async () => {
    const other = join(dir, 'other.yaml');
    await writeFile(other, yaml('image: r.example/x:1', 'manifests: []'));
    const err = await specErrorOfAsync(() => loadSpecFiles([fixture('bad-batch.yaml'), other, fixture('prometheus.yaml')]));
    assertIssues(err, [/bad-batch\.yaml:9: /, /other\.yaml:2: \/manifests: must list at least one image$/], 2);
    assert.deepEqual(err.issues.map((issue) => issue.file), [fixture('bad-batch.yaml'), other]);
  });

  test('a binary file is refused', async () => {
    const path = join(dir, 'binary.yaml');
    await writeFile(path, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0xff, 0x00]));
    assertIssues(await specErrorOfAsync(() => loadSpecFiles([path])), [/binary\.yaml: is not UTF-8 text/], 1);
  });

  test('a file over 1 MiB is refused', async () => {
    const path = join(dir, 'big.yaml');
    await writeFile(path, yaml('image: r.example/app:1.0', 'manifests:', ...Array.from({ length: 40_000 }, (_, i) => `  - image: r.example/app:${i}`)));
    assertIssues(await specErrorOfAsync(() => loadSpecFiles([path])), [/big\.yaml: is larger than 1 MiB/], 1);
  });

  test('an empty file is refused', async () => {
    const path = join(dir, 'empty.yaml');
    await writeFile(path, '');
    assertIssues(await specErrorOfAsync(() => loadSpecFiles([path])), [/empty\.yaml: holds no spec/], 1);
  });

  const unreadable: { name: string; path: () => string; message: RegExp }[] = [
    { name: 'a missing file', path: () => 'nope.yaml', message: /^reading spec nope\.yaml: no such file$/ },
    { name: 'a directory', path: () => dir, message: /^reading spec .*: is a directory, not a file$/ },
  ];
  for (const c of unreadable) {
    test(`${c.name} is one clear INVALID_INPUT line`, async () => {
      await assert.rejects(loadSpecFiles([fixture('prometheus.yaml'), c.path()], { baseDir: dir }), (err: unknown) => {
        assert.ok(isManifestError(err) && !isSpecError(err), String(err));
        assert.equal(err.code, 'INVALID_INPUT');
        assert.match(err.message, c.message);
        return true;
      });
    });
  }
});

describe('parseSpecText quotes long input clipped, each issue one readable line', () => {
  const long = 'z'.repeat(100_000);
  const cases: { name: string; text: string; issue: RegExp }[] = [
    { name: 'a misspelt key', text: yaml(...HEAD, `  - {image: r.example/app:amd64, platform: {os: linux, architecture: amd64, variant${'z'.repeat(2)}: x}}`), issue: /unknown key 'variantzz'/ },
    { name: 'an unknown tag', text: yaml(`image: !${long} r.example/app:1.0`, 'manifests: [{image: r.example/app:amd64}]'), issue: /invalid YAML: unknown tag !<!z+…$/ },
    { name: 'an unknown alias', text: yaml(`image: *${long}`, 'manifests: [{image: r.example/app:amd64}]'), issue: /invalid YAML: unidentified alias "z+…$/ },
    {
      name: 'a platform declared twice',
      text: yaml(...HEAD, ...['amd64', 'arm64'].map((tag) => `  - {image: r.example/app:${tag}, platform: {os: windows, architecture: amd64, osversion: "${long}"}}`)),
      issue: /platform windows\(z+… is declared twice/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const err = specErrorOf(() => parseSpecText(c.text, { file: 'spec.yaml' }));
      assertIssues(err, [c.issue]);
      for (const line of err.lines) assert.ok(line.length < 400, `${line.length} characters: ${line.slice(0, 200)}…`);
    });
  }
});

test('a long unknown key is quoted clipped in its one-line warning', () => {
  const { warnings } = withWarnings((logger) => parseSpecText(yaml(...HEAD, `  - {image: r.example/app:amd64, platform: {os: linux, architecture: amd64, ${'z'.repeat(100_000)}: x}}`), { file: 'spec.yaml', logger }));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /unknown key 'z{40}…' ignored/);
  assert.ok((warnings[0] ?? '').length < 400);
});

describe('specs manifest-tool accepts', () => {
  const cases: { name: string; lines: string[]; manifests: object[]; tags?: string[]; warnings?: RegExp[] }[] = [
    { name: 'tags: []', lines: ['tags: []', ...HEAD, '  - {image: r.example/app:amd64, platform: {architecture: amd64, os: linux}}'], tags: [], manifests: [{ platform: { os: 'linux', architecture: 'amd64' } }] },
    { name: 'variant: "" is no variant', lines: [...HEAD, '  - {image: r.example/app:amd64, platform: {architecture: amd64, os: linux, variant: ""}}'], manifests: [{ platform: { os: 'linux', architecture: 'amd64' } }] },
    { name: 'platform: {} is read from the config', lines: [...HEAD, '  - {image: r.example/app:amd64, platform: {}}'], manifests: [{ platformFields: {} }] },
    { name: 'a partial platform keeps what it gives', lines: [...HEAD, '  - {image: r.example/app:arm, platform: {variant: v7}}'], manifests: [{ platformFields: { variant: 'v7' } }] },
    { name: 'a partial platform maps an alias', lines: [...HEAD, '  - {image: r.example/app:arm, platform: {architecture: armhf}}'], manifests: [{ platformFields: { architecture: 'arm', variant: 'v7' } }] },
    { name: 'arm64 variant v8 is kept as written', lines: [...HEAD, '  - {image: r.example/app:arm64, platform: {architecture: arm64, os: linux, variant: v8}}'], manifests: [{ platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }] },
    {
      name: 'os.version and os.features, the OCI spellings',
      lines: [...HEAD, '  - image: r.example/app:win', '    platform: {architecture: amd64, os: windows, os.version: 10.0.17763.1, os.features: [win32k]}'],
      manifests: [{ platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1', 'os.features': ['win32k'] } }],
    },
    {
      name: 'both spellings with the same value',
      lines: [...HEAD, '  - {image: r.example/app:win, platform: {architecture: amd64, os: windows, osversion: 10.0.1.2, os.version: 10.0.1.2}}'],
      manifests: [{ platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.1.2' } }],
    },
    {
      name: 'unknown keys are warnings',
      lines: ['image: r.example/app:1.0', 'colour: blue', 'manifests:', '  - {image: r.example/app:amd64, comment: x, platform: {architecture: amd64, os: linux, cpu: fast}}'],
      manifests: [{ platform: { os: 'linux', architecture: 'amd64' } }],
      warnings: [
        /^spec\.yaml:2: \/colour: unknown key 'colour' ignored \(known keys: image, tags, annotations, manifests\)$/,
        /^spec\.yaml:4: \/manifests\/0\/comment: unknown key 'comment' ignored \(known keys: image, platform, annotations\)$/,
        /^spec\.yaml:4: \/manifests\/0\/platform\/cpu: unknown key 'cpu' ignored/,
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { result, warnings } = withWarnings((logger) => parseSpecText(yaml(...c.lines), { file: 'spec.yaml', logger }));
      const [spec] = result;
      assert.deepEqual(spec?.manifests.map(({ platform, platformFields }) => ({ ...(platform === undefined ? {} : { platform }), ...(platformFields === undefined ? {} : { platformFields }) })), c.manifests);
      if (c.tags !== undefined) assert.deepEqual(spec?.tags, c.tags);
      assert.equal(warnings.length, c.warnings?.length ?? 0, warnings.join('\n'));
      (c.warnings ?? []).forEach((pattern, i) => assert.match(warnings[i] ?? '', pattern));
    });
  }

  const refused: { name: string; lines: string[]; issue: RegExp }[] = [
    { name: 'two spellings that disagree', lines: [...HEAD, '  - {image: r.example/app:win, platform: {architecture: amd64, os: windows, osversion: 10.0.1.2, os.version: 10.0.1.3}}'], issue: /\/platform\/os\.version: os\.version and osversion are two spellings of one field, but give different values/ },
    { name: 'a partial platform with an unknown architecture', lines: [...HEAD, '  - {image: r.example/app:x, platform: {architecture: amd65}}'], issue: /invalid platform "\?\/amd65": unknown architecture/ },
    { name: 'a partial platform with an unknown os', lines: [...HEAD, '  - {image: r.example/app:x, platform: {os: linus}}'], issue: /invalid platform "linus\/\?": unknown os/ },
    { name: 'manifest for manifests', lines: ['image: r.example/app:1.0', 'manifest: [{image: r.example/app:amd64}]'], issue: /\/manifest: unknown key 'manifest' \(did you mean 'manifests'\?\)/ },
  ];
  for (const c of refused) {
    test(`refused: ${c.name}`, () => {
      const err = specErrorOf(() => parseSpecText(yaml(...c.lines), { file: 'spec.yaml' }));
      assertIssues(err, [c.issue]);
    });
  }
});

describe('formatSpecIssue', () => {
  const cases: { issue: Parameters<typeof formatSpecIssue>[0]; expected: string }[] = [
    { issue: { file: 'a.yaml', line: 7, path: '/manifests/1/platform', message: "must have required property 'os'" }, expected: "a.yaml:7: /manifests/1/platform: must have required property 'os'" },
    { issue: { file: 'a.yaml', line: 3, column: 5, path: '', message: 'invalid YAML: x' }, expected: 'a.yaml:3:5: invalid YAML: x' },
    { issue: { file: 'a.yaml', path: '', message: 'holds no spec' }, expected: 'a.yaml: holds no spec' },
  ];
  for (const c of cases) test(c.expected, () => assert.equal(formatSpecIssue(c.issue), c.expected));
});

describe('specFromArgs', () => {
  const base: SpecFromArgsOptions = {
    platforms: 'linux/amd64,linux/arm/v7,linux/arm64',
    template: 'r.example/app-OS-ARCHVARIANT:1.0',
    target: 'r.example/app:1.0',
  };

  const good: { name: string; options: Partial<SpecFromArgsOptions>; images: string[] }[] = [
    { name: 'OS, ARCH and VARIANT (empty when none)', options: {}, images: ['r.example/app-linux-amd64:1.0', 'r.example/app-linux-armv7:1.0', 'r.example/app-linux-arm64:1.0'] },
    { name: 'ARCH in the tag', options: { platforms: 'linux/amd64, linux/s390x', template: 'r.example/app:1.0-ARCH' }, images: ['r.example/app:1.0-amd64', 'r.example/app:1.0-s390x'] },
    { name: 'segments are substituted as typed (aliases too)', options: { platforms: 'linux/aarch64,linux/x86_64', template: 'r.example/app:ARCH' }, images: ['r.example/app:aarch64', 'r.example/app:x86_64'] },
    { name: 'arm64/v8 names the official-images style arm64v8', options: { platforms: 'linux/arm64/v8,linux/amd64', template: 'r.example/app:ARCHVARIANT' }, images: ['r.example/app:arm64v8', 'r.example/app:amd64'] },
    { name: 'a template without ARCH (REG/app:OS) when the platforms differ in os', options: { platforms: 'linux/amd64,windows/amd64', template: 'r.example/app:OS' }, images: ['r.example/app:linux', 'r.example/app:windows'] },
    { name: 'one platform needs no placeholder', options: { platforms: 'linux/amd64', template: 'r.example/app:1.0-amd64' }, images: ['r.example/app:1.0-amd64'] },
    { name: 'arm variants told apart by VARIANT', options: { platforms: 'linux/arm/v6,linux/arm/v7', template: 'r.example/app:ARCH-VARIANT' }, images: ['r.example/app:arm-v6', 'r.example/app:arm-v7'] },
  ];
  for (const c of good) {
    test(c.name, () => {
      const spec = specFromArgs({ ...base, ...c.options });
      assert.deepEqual(spec.manifests.map((entry) => entry.image.toString()), c.images);
      assert.equal(spec.target.toString(), 'r.example/app:1.0');
      assert.deepEqual(spec.source, { file: '--template', document: 0 });
    });
  }

  test('entries carry their platforms; tags and annotations pass through', () => {
    const spec = specFromArgs({ ...base, tags: ['latest', '1.0', 'latest'], annotations: { 'org.example.a': 'b' } });
    assert.deepEqual(spec.manifests.map((entry) => entry.platform), [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    assert.deepEqual(spec.tags, ['latest']);
    assert.deepEqual(spec.annotations, { 'org.example.a': 'b' });
  });

  const bad: { name: string; options: Partial<SpecFromArgsOptions>; code: string; message: RegExp }[] = [
    { name: 'a template without placeholders for several platforms', options: { template: 'r.example/app:1.0' }, code: 'USAGE', message: /^--template gives the same image r\.example\/app:1\.0 for linux\/amd64 and linux\/arm\/v7: add the placeholder/ },
    { name: 'an OS-only template for two linux platforms', options: { platforms: 'linux/amd64,linux/arm64', template: 'r.example/app:OS' }, code: 'USAGE', message: /^--template gives the same image r\.example\/app:linux for linux\/amd64 and linux\/arm64/ },
    { name: 'empty --platforms', options: { platforms: ' ' }, code: 'USAGE', message: /^--platforms is empty/ },
    { name: 'an empty platform item', options: { platforms: 'linux/amd64,,linux/arm64' }, code: 'USAGE', message: /^--platforms ".*" has an empty item/ },
    { name: 'a bad platform', options: { platforms: 'linux/amd64,linux/arm/v9' }, code: 'INVALID_PLATFORM', message: /^--platforms: invalid platform "linux\/arm\/v9"/ },
    { name: 'duplicate platforms (arm is arm/v7)', options: { platforms: 'linux/arm,linux/amd64,linux/arm/v7' }, code: 'INVALID_PLATFORM', message: /^--platforms names one platform twice: "linux\/arm" and "linux\/arm\/v7"$/ },
    { name: 'two platforms, one image', options: { platforms: 'linux/arm/v6,linux/arm/v7', template: 'r.example/app:ARCH' }, code: 'USAGE', message: /^--template gives the same image r\.example\/app:arm for linux\/arm\/v6 and linux\/arm\/v7/ },
    { name: 'template giving a bad reference', options: { template: 'r.example/App-ARCH:1' }, code: 'INVALID_REFERENCE', message: /^--template for linux\/amd64: invalid reference "r\.example\/App-amd64:1"/ },
    { name: 'target with a digest', options: { target: `r.example/app@${DIGEST}` }, code: 'INVALID_REFERENCE', message: /^--target: invalid target .*a list is pushed to a tag/ },
    { name: 'bad target', options: { target: 'https://r.example/app' }, code: 'INVALID_REFERENCE', message: /^--target: invalid reference/ },
    { name: 'bad tag', options: { tags: ['ok', 'no:colons'] }, code: 'INVALID_REFERENCE', message: /^--tags: tag "no:colons" may hold only/ },
    { name: 'empty annotation key', options: { annotations: { '': 'x' } }, code: 'USAGE', message: /^--annotations: an annotation key is empty$/ },
  ];
  for (const c of bad) {
    test(`refuses ${c.name}`, () => {
      assert.throws(() => specFromArgs({ ...base, ...c.options }), (err: unknown) => {
        assert.ok(isManifestError(err), String(err));
        assert.equal(err.code, c.code);
        assert.match(err.message, c.message);
        return true;
      });
    });
  }
});

test('the precompiled schema validator is what schemas/spec.schema.json compiles to', () => {
  const script = fileURLToPath(new URL('../../../scripts/generate-validator.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
});
