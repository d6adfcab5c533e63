// The CLI run in-process: usage errors, exit codes and one-line messages, with no network involved.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Command } from 'commander';
import { run } from '../../src/cli/main.js';
import { createProgram } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/io.js';
import { renderFailure } from '../../src/cli/failure-output.js';
import { ManifestError } from '../../src/errors.js';
import { memoryIo } from '../helpers/memory-io.js';

async function cli(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo(stdin);
  const code = await run(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

describe('cli', () => {
  test('a --ca-file that holds no certificate is exit 2 naming the file, before any connection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'manifest-ca-'));
    try {
      await writeFile(join(dir, 'ca.pem'), 'not a certificate\n');
      const r = await cli(['--ca-file', join(dir, 'ca.pem'), 'inspect', '127.0.0.1:1/app:1']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /ca\.pem holds no PEM certificate/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  test('static gc --keep 0 is refused before anything is read (it would empty every repository)', async () => {
    const r = await cli(['static', 'gc', '--keep', '0', 'dir:/nonexistent-store']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^manifest: option '--keep <n>' argument '0' is invalid\. expected at least 1 \(to remove tags, use static rm\)\n/);
  });
  test('--help lists the commands and exit codes, exit 0', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /inspect/);
    assert.match(r.stdout, /Exit codes/);
  });
  test('--version prints the package version', async () => {
    const r = await cli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+ \(Node\.js v\d+\.\d+\.\d+\)\n$/);
  });

  // Every command the program declares, walked from commander's own tree: a new command needs examples too.
  const paths = (command: Command, path: string[] = []): string[][] =>
    [path, ...command.commands.filter((c) => c.name() !== 'help').flatMap((c) => paths(c, [...path, c.name()]))];
  for (const path of paths(createProgram({ stdout: () => undefined, stderr: () => undefined, readStdin: () => Promise.resolve(''), env: {}, homeDir: '/', signal: new AbortController().signal }, { secrets: [] }))) {
    test(`manifest ${path.join(' ')} --help shows examples`, async () => {
      const r = await cli([...path, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\nExamples:\n {2}(\S.*\n)+/);
    });
  }

  const usage: { args: string[]; pattern: RegExp; stdin?: string }[] = [
    { args: ['--bogus'], pattern: /^manifest: unknown option '--bogus'/ },
    { args: ['inspect'], pattern: /^manifest: missing required argument 'ref'/ },
    { args: ['nosuchcommand'], pattern: /^manifest: unknown command 'nosuchcommand'/ },
    { args: ['inspec', 'x'], pattern: /hint: did you mean inspect/ },
    { args: ['--plain-http-host', 'http://h:1', 'inspect', 'r.example/a:1'], pattern: /expected HOST or HOST:PORT/ },
    { args: ['inspect', '--platform', 'linux/arm64,linux/amd64', 'r.example/a:1'], pattern: /give one platform/ },
    { args: ['inspect', '-p', 'linux/arm64', 'r.example/a:1'], pattern: /the platform option is --platform/ },
    { args: [], pattern: /Usage: manifest/ },
    { args: ['inspect', 'Bad//ref'], pattern: /^manifest: invalid reference "Bad\/\/ref"/ },
    { args: ['inspect', '--platform', 'linux', 'r.example/a:1'], pattern: /^manifest: invalid platform "linux"/ },
    { args: ['inspect', '--raw', '--json', 'r.example/a:1'], pattern: /cannot be used together/ },
    { args: ['--username', 'u', 'inspect', 'r.example/a:1'], pattern: /--username needs --password-stdin/ },
    { args: ['--password-stdin', 'inspect', 'r.example/a:1'], pattern: /empty password/, stdin: '\n' },
    { args: ['--password-stdin', 'inspect', 'r.example/a:1'], pattern: /without --username/, stdin: 'x\n' },
  ];
  for (const c of usage) {
    test(`${c.args.join(' ')} exits 2 with one line`, async () => {
      const r = await cli(c.args, c.stdin);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, c.pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.ok(r.stderr.trimEnd().split('\n').slice(1).every((l) => l.startsWith('  hint: ')) || c.args.length === 0, r.stderr);
      assert.equal(r.stdout, '');
    });
  }

  test('global options are accepted after the subcommand too', async () => {
    const r = await cli(['inspect', 'Bad//ref', '--plain-http', '--insecure-host', 'a', '--insecure-host', 'b']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid reference/);
  });

  test('a password given with --password is warned about and never printed', async () => {
    const r = await cli(['--username', 'u', '--password', 'sekrit-value', 'inspect', '--plain-http', '127.0.0.1:1/a:1']);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /use --password-stdin/);
    assert.ok(!r.stderr.includes('sekrit-value'));
  });

  // Input quoted in a message must not start a line of its own that looks like ours.
  const forged: { name: string; args: string[]; stdin?: string; code?: number; lines?: number }[] = [
    { name: 'a reference', args: ['inspect', 'r.example/a\nmanifest: forged'] },
    { name: 'a platform', args: ['inspect', '--platform', 'linux\nmanifest: forged/amd64', 'r.example/a:1'] },
    // An unknown key is a warning (one line), then the push fails on the closed port (another line).
    { name: 'an unknown YAML key', args: ['pushml', '-'], stdin: 'image: 127.0.0.1:1/a:1\nmanifests: [{image: 127.0.0.1:1/b:1}]\n"x\\nmanifest: forged\\u001b[2J": y\n', code: 6, lines: 2 },
  ];
  for (const c of forged) {
    test(`a newline in ${c.name} stays inside the one line of its message`, async () => {
      const r = await cli(c.args, c.stdin);
      assert.equal(r.code, c.code ?? 2, r.stderr);
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('manifest: ')).length, c.lines ?? 1, r.stderr);
      assert.match(r.stderr, /^manifest: .*\\nmanifest: forged/);
      assert.ok(!r.stderr.includes('\u001b'), 'no escape character');
    });
  }

  test('tags of a bare registry host is a usage error naming what was meant, before any request', async () => {
    for (const host of ['127.0.0.1:5000', 'localhost:5000', 'r.example:443']) {
      const r = await cli(['tags', '--plain-http', host]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `manifest: "${host}" names the Docker Hub repository library/${host.slice(0, host.lastIndexOf(':'))}; for a registry at ${host}, write ${host}/REPOSITORY\n`);
    }
  });

  test('a static command given a registry reference (or S3:// in capitals) refuses it, creating nothing', async () => {
    for (const target of ['r.example.com:5000/tools', 'S3://bucket?endpoint=x']) {
      const r = await cli(['static', 'push', '-t', 'tool:1.0', 'bin', target]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^manifest: ".*" is not a static store: write dir:PATH for a directory \(a path holding ":" included\) or s3:\/\/BUCKET/);
    }
  });

  test('--plain-http never sends Docker Hub requests in clear; --plain-http-host still can', async () => {
    const { transportFor } = await import('../../src/cli/registry-options.js');
    const logger = { debug: () => undefined, warn: () => undefined };
    const io = memoryIo();
    const blanket = await transportFor({ plainHttp: true }, ['registry-1.docker.io', 'Registry-1.Docker.IO:443', '127.0.0.1:5000'], io, logger);
    assert.equal(blanket.baseUrl('registry-1.docker.io'), 'https://registry-1.docker.io');
    assert.equal(blanket.baseUrl('Registry-1.Docker.IO:443'), 'https://Registry-1.Docker.IO:443');
    assert.equal(blanket.baseUrl('127.0.0.1:5000'), 'http://127.0.0.1:5000');
    const named = await transportFor({ plainHttpHost: ['registry-1.docker.io'] }, ['registry-1.docker.io'], io, logger);
    assert.equal(named.baseUrl('registry-1.docker.io'), 'http://registry-1.docker.io');
  });

  test('a message holding a newline (a registry\'s text) is still printed as one line', () => {
    let stderr = '';
    const io = { stderr: (t: string) => { stderr += t; } } as CliIo;
    const code = renderFailure(new ManifestError('UNAVAILABLE', 'r.example said: down\nmanifest: forged\u001b[2J'), io);
    assert.equal(code, 6);
    assert.equal(stderr, 'manifest: r.example said: down?manifest: forged?[2J\n');
  });
});

describe('printable', () => {
  test('control characters from a registry never reach the terminal', async () => {
    const { printable } = await import('../../src/cli/render.js');
    assert.equal(printable('a\u001b[2Jb\u009bc\nd\te'), 'a?[2Jb?c\nd?e');
  });
  test('printableLine keeps a message on one line', async () => {
    const { printableLine } = await import('../../src/cli/render.js');
    assert.equal(printableLine('a\nb\r\nc\u2028d\u001b'), 'a?b??c?d?');
  });
});

describe('commands of other tools', () => {
  const cases: { args: string[]; hint: RegExp }[] = [
    { args: ['create', 'r.example/a:1', 'r.example/a:amd64'], hint: /push from-args .* or manifest pushml SPEC\.yaml \(docker manifest create \+ push\)/ },
    { args: ['annotate', 'r.example/a:1'], hint: /given when the list is pushed/ },
    { args: ['rm', 'r.example/a:1'], hint: /nothing is kept locally/ },
    { args: ['version'], hint: /manifest --version/ },
    { args: ['push', 'prom.yaml'], hint: /manifest push from-spec prom\.yaml \(or manifest pushml prom\.yaml\)/ },
    { args: ['push', 'r.example/a:1'], hint: /push takes from-spec, from-args or archives/ },
    { args: ['prom.yml'], hint: /manifest pushml prom\.yml/ },
  ];
  for (const c of cases) {
    test(`manifest ${c.args.join(' ')}: exit 2 with a pointer to what does it here`, async () => {
      const x = memoryIo();
      assert.equal(await run(c.args, x), 2);
      const lines = x.err().trimEnd().split('\n');
      assert.match(lines[0] ?? '', /^manifest: unknown command '/);
      assert.match(lines[1] ?? '', /^ {2}hint: /);
      assert.match(lines[1] ?? '', c.hint);
      assert.match(lines[lines.length - 1] ?? '', /^ {2}hint: see 'manifest( push)? --help'$/);
    });
  }
});
