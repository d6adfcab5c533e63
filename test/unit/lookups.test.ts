// Look-ups and list edits at unit level: the Link header, pagination guards over MockAgent, blob verification
// while streaming, and the pure merge and removal of list entries.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { MockAgent } from 'undici';
import type { Digest } from '../../src/digest.js';
import { isManifestError, type ErrorCode } from '../../src/errors.js';
import { assertOneLineError, runCli } from '../helpers/cli.js';
import { mergeListEntries, removeListEntries } from '../../src/manifest/edit-list.js';
import type { ResolvedEntry } from '../../src/manifest/resolve.js';
import { ANNOTATION_REFERENCE_DIGEST, ANNOTATION_REFERENCE_TYPE, REFERENCE_TYPE_ATTESTATION } from '../../src/media-types.js';
import { parsePlatform, type Platform } from '../../src/platform.js';
import { parseReference } from '../../src/ref.js';
import { RegistryClient } from '../../src/registry/client.js';
import { RegistryRepository } from '../../src/store/registry-repository.js';
import { parseNextLink } from '../../src/registry/link.js';
import { Transport } from '../../src/registry/transport.js';
import { rejectsWith } from '../helpers/rejects.js';

const REG = 'https://r.example';

function setup(): { agent: MockAgent; client: RegistryClient } {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const transport = new Transport({ dispatcher: agent, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  return { agent, client: new RegistryClient({ transport }) };
}

describe('parseNextLink', () => {
  const cases: { name: string; values: string[]; next: string | undefined }[] = [
    { name: 'distribution\'s form', values: ['</v2/_catalog?last=b&n=2>; rel="next"'], next: '/v2/_catalog?last=b&n=2' },
    { name: 'absolute, unquoted rel', values: ['<https://r.example/v2/a/tags/list?last=x>;rel=next'], next: 'https://r.example/v2/a/tags/list?last=x' },
    { name: 'several relations in one rel', values: ['</v2/x?last=1>; rel="prev next"'], next: '/v2/x?last=1' },
    { name: 'next among other links', values: ['</v2/x?first>; rel="first", </v2/x?last=9>; rel="next"'], next: '/v2/x?last=9' },
    { name: 'in a second header', values: ['</v2/x?p>; rel="prev"', '</v2/x?n>; rel="next"'], next: '/v2/x?n' },
    { name: 'upper-case REL and NEXT', values: ['</v2/x?u>; REL="NEXT"'], next: '/v2/x?u' },
    { name: 'no next', values: ['</v2/x?p>; rel="prev"'], next: undefined },
    { name: 'no header', values: [], next: undefined },
    { name: 'garbage', values: ['rel="next"'], next: undefined },
    { name: 'empty target', values: ['<>; rel="next"'], next: undefined },
    { name: 'too long', values: [`</v2/x?${'a'.repeat(9000)}>; rel="next"`], next: undefined },
  ];
  for (const c of cases) test(c.name, () => assert.equal(parseNextLink(c.values), c.next));
});

describe('listTags and listCatalog over MockAgent', () => {
  const repo = parseReference('r.example/app');

  test('pages are followed through Link until there is none; n and last are sent', async () => {
    const { agent, client } = setup();
    const pool = agent.get(REG);
    pool.intercept({ path: '/v2/app/tags/list?n=2&last=a', method: 'GET' })
      .reply(200, { name: 'app', tags: ['b', 'c'] }, { headers: { link: '</v2/app/tags/list?last=c&n=2>; rel="next"' } });
    pool.intercept({ path: '/v2/app/tags/list?last=c&n=2', method: 'GET' }).reply(200, { name: 'app', tags: ['d'] });
    assert.deepEqual(await client.listTags(repo, { pageSize: 2, last: 'a' }), ['b', 'c', 'd']);
  });

  test('"tags": null is an empty list', async () => {
    const { agent, client } = setup();
    agent.get(REG).intercept({ path: '/v2/app/tags/list', method: 'GET' }).reply(200, { name: 'app', tags: null });
    assert.deepEqual(await client.listTags(repo), []);
  });

  const failures: { name: string; reply: () => [number, unknown, Record<string, string>]; code: ErrorCode; pattern: RegExp }[] = [
    { name: 'a link back to the same page', reply: () => [200, { tags: ['a'] }, { link: '</v2/app/tags/list>; rel="next"' }], code: 'INVALID_RESPONSE', pattern: /keeps sending/ },
    { name: 'a link to another origin', reply: () => [200, { tags: ['a'] }, { link: '<https://evil.example/v2/app/tags/list?last=a>; rel="next"' }], code: 'INVALID_RESPONSE', pattern: /outside its \/v2\/ API/ },
    { name: 'a link outside /v2/', reply: () => [200, { tags: ['a'] }, { link: '</admin?last=a>; rel="next"' }], code: 'INVALID_RESPONSE', pattern: /outside/ },
    { name: 'no tags list', reply: () => [200, { name: 'app' }, {}], code: 'INVALID_RESPONSE', pattern: /"tags" list/ },
    { name: 'a tag that is not a string', reply: () => [200, { tags: ['a', 7] }, {}], code: 'INVALID_RESPONSE', pattern: /"tags" list/ },
    { name: 'not JSON', reply: () => [200, 'nope', {}], code: 'INVALID_RESPONSE', pattern: /not JSON/ },
    { name: 'a missing repository', reply: () => [404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }, { 'content-type': 'application/json' }], code: 'NOT_FOUND', pattern: /repository r\.example\/app not found/ },
  ];
  for (const c of failures) {
    test(`${c.name}: ${c.code}`, async () => {
      const { agent, client } = setup();
      const [status, body, headers] = c.reply();
      agent.get(REG).intercept({ path: '/v2/app/tags/list', method: 'GET' }).reply(status, body as object, { headers }).persist();
      await rejectsWith(client.listTags(repo), c.code, c.pattern);
    });
  }

  test('more names than the limit: TOO_LARGE', async () => {
    const { agent, client } = setup();
    agent.get(REG).intercept({ path: '/v2/_catalog', method: 'GET' }).reply(200, { repositories: ['a', 'b', 'c'] });
    await rejectsWith(client.listCatalog('r.example', { limit: 2 }), 'TOO_LARGE');
  });
});

describe('getBlobStream over MockAgent', () => {
  const bytes = Buffer.from('layer bytes');
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
  const repo = parseReference('r.example/app');
  const read = async (stream: AsyncIterable<Buffer>): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c);
    return Buffer.concat(chunks);
  };

  test('the right bytes pass', async () => {
    const { agent, client } = setup();
    agent.get(REG).intercept({ path: `/v2/app/blobs/${digest}`, method: 'GET' }).reply(200, bytes);
    const blob = await client.getBlobStream(repo, digest);
    assert.deepEqual(await read(blob.stream), bytes);
  });

  test('other bytes fail at the end with DIGEST_MISMATCH', async () => {
    const { agent, client } = setup();
    agent.get(REG).intercept({ path: `/v2/app/blobs/${digest}`, method: 'GET' }).reply(200, Buffer.from('other bytes'));
    const blob = await client.getBlobStream(repo, digest);
    await rejectsWith(read(blob.stream), 'DIGEST_MISMATCH', /hashes to/);
  });

  test('a missing blob is NOT_FOUND naming the blob', async () => {
    const { agent, client } = setup();
    agent.get(REG).intercept({ path: `/v2/app/blobs/${digest}`, method: 'GET' })
      .reply(404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }, { headers: { 'content-type': 'application/json' } });
    await rejectsWith(client.getBlobStream(repo, digest), 'NOT_FOUND', /blob sha256:[0-9a-f]+ not found in r\.example\/app/);
  });
});

describe('mergeListEntries and removeListEntries', () => {
  const target = parseReference('r.example/app:1');
  // Never read: the merge looks at descriptors only.
  const reader = new RegistryRepository(new RegistryClient(), target);
  const d = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;
  const image = (c: string, platform: string): ResolvedEntry => ({
    descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(c), size: 100, platform: parsePlatform(platform) },
    reader,
    from: { image: target.withDigest(d(c)) },
    attestation: false,
  });
  const attestation = (c: string, of: string): ResolvedEntry => ({
    descriptor: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d(c), size: 50, platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { [ANNOTATION_REFERENCE_TYPE]: REFERENCE_TYPE_ATTESTATION, [ANNOTATION_REFERENCE_DIGEST]: d(of) },
    },
    reader,
    from: { image: target.withDigest(d(c)) },
    attestation: true,
  });
  const digests = (entries: readonly ResolvedEntry[]): string[] => entries.map((e) => e.descriptor.digest.slice(7, 8));

  const current = [image('a', 'linux/amd64'), attestation('b', 'a'), image('c', 'linux/arm64'), image('e', 'linux/arm/v7')];

  const merges: { name: string; added: ResolvedEntry[]; want: string[] }[] = [
    { name: 'a new platform goes last', added: [image('f', 'linux/s390x')], want: ['a', 'b', 'c', 'e', 'f'] },
    { name: 'the same platform replaces in place, its old attestation dropped', added: [image('f', 'linux/amd64')], want: ['f', 'c', 'e'] },
    { name: 'arm64/v8 is arm64; arm is arm/v7', added: [image('f', 'linux/arm64/v8'), image('9', 'linux/arm')], want: ['a', 'b', 'f', '9'] },
    { name: 'arm/v6 is another platform than arm/v7', added: [image('f', 'linux/arm/v6')], want: ['a', 'b', 'c', 'e', 'f'] },
    { name: 'an added image brings its attestation after it', added: [image('f', 'linux/amd64'), attestation('9', 'f')], want: ['f', '9', 'c', 'e'] },
    { name: 'nothing added changes nothing', added: [], want: ['a', 'b', 'c', 'e'] },
  ];
  for (const c of merges) test(`merge: ${c.name}`, () => assert.deepEqual(digests(mergeListEntries(current, c.added)), c.want));

  const removals: { name: string; platforms: Platform[]; want?: string[]; code?: ErrorCode }[] = [
    { name: 'an image and its attestation', platforms: [parsePlatform('linux/amd64')], want: ['c', 'e'] },
    { name: 'linux/arm64/v8 is arm64', platforms: [parsePlatform('linux/arm64/v8')], want: ['a', 'b', 'e'] },
    { name: 'linux/arm is arm/v7', platforms: [parsePlatform('linux/arm')], want: ['a', 'b', 'c'] },
    { name: 'a platform the list lacks', platforms: [parsePlatform('linux/arm/v6')], code: 'NOT_FOUND' },
    { name: 'every image', platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'].map((p) => parsePlatform(p)), code: 'INVALID_INPUT' },
  ];
  for (const c of removals) {
    test(`remove: ${c.name}`, () => {
      if (c.code === undefined) {
        assert.deepEqual(digests(removeListEntries(current, c.platforms, 'r.example/app:1')), c.want);
        return;
      }
      assert.throws(() => removeListEntries(current, c.platforms, 'r.example/app:1'), (err: unknown) => isManifestError(err) && err.code === c.code);
    });
  }
});

describe('look-up and edit commands: bad input is exit 2, one line, nothing sent', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const cases: { args: string[]; pattern: RegExp }[] = [
    { args: ['tags'], pattern: /missing required argument 'repo'/ },
    { args: ['tags', '-n', '0', 'r.example/app'], pattern: /page-size/ },
    { args: ['tags', '--last', '', 'r.example/app'], pattern: /--last/ },
    { args: ['catalog', 'https://r.example'], pattern: /not a registry host/ },
    { args: ['catalog', 'r.example/app'], pattern: /not a registry host/ },
    { args: ['catalog', 'justaname'], pattern: /not a registry host/ },
    { args: ['digest', '--platform', 'linux', 'r.example/app:1'], pattern: /invalid platform/ },
    { args: ['blob', 'get', 'r.example/app:1'], pattern: /names no digest/ },
    { args: ['blob', 'get', '--json', `r.example/app@${digest}`], pattern: /--json needs --output/ },
    { args: ['index', 'add', 'r.example/app:1'], pattern: /missing required argument 'source'/ },
    { args: ['index', 'remove', 'r.example/app:1'], pattern: /--platform/ },
    { args: ['index', 'remove', 'r.example/app:1', '--platform', 'linux/nope'], pattern: /unknown architecture/ },
    { args: ['index', 'add', '--type', 'auto', 'r.example/app:1', 'r.example/app:2'], pattern: /--type/ },
    { args: ['index', 'add', `r.example/app@${digest}`, 'r.example/app:2'], pattern: /names a digest/ },
  ];
  for (const c of cases) {
    test(c.args.join(' '), async () => {
      // r.example is never contacted: every case fails before a request.
      const r = await runCli(['--timeout', '5s', ...c.args]);
      assertOneLineError(r, 2, c.pattern);
      assert.equal(r.text, '');
    });
  }
});
