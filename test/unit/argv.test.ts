// manifest-tool's command lines (Go-style flags, push's options before the subcommand) rewritten for commander,
// from the options the program declares; and the same lines through the whole CLI, with no network involved.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeArgv } from '../../src/cli/argv.js';
import { run } from '../../src/cli/main.js';
import { createProgram } from '../../src/cli/program.js';
import { memoryIo } from '../helpers/memory-io.js';

const io = memoryIo;

const program = createProgram(io(), { secrets: [] });
const cases: { name: string; argv: string[]; want: string[] }[] = [
  { name: 'one dash before global long options', argv: ['-plain-http', '-insecure', '-username', 'alice', '-docker-cfg', '/d', 'inspect', 'r/a:1'], want: ['--plain-http', '--insecure', '--username', 'alice', '--docker-cfg', '/d', 'inspect', 'r/a:1'] },
  { name: 'Go booleans after =', argv: ['--debug=true', '-insecure=1', '-plain-http=false', 'inspect', 'r/a:1'], want: ['--debug', '--insecure', 'inspect', 'r/a:1'] },
  { name: 'a negated switch takes =true', argv: ['pushml', '--no-verify=true', 'f.yaml'], want: ['pushml', '--no-verify', 'f.yaml'] },
  { name: 'an option value after =', argv: ['-username=alice', 'inspect', 'r/a:1'], want: ['--username=alice', 'inspect', 'r/a:1'] },
  { name: 'push options before from-spec move after it', argv: ['push', '--type', 'oci', 'from-spec', 'f.yaml'], want: ['push', 'from-spec', '--type', 'oci', 'f.yaml'] },
  { name: 'Go-style push options before from-args', argv: ['push', '-type', 'oci', '-q', 'from-args', '-platforms', 'linux/amd64', '-template', 'r/a-OS', '-target', 'r/a:1'], want: ['push', 'from-args', '--type', 'oci', '-q', '--platforms', 'linux/amd64', '--template', 'r/a-OS', '--target', 'r/a:1'] },
  { name: 'a subcommand option before the command itself waits for its subcommand', argv: ['-type', 'oci', 'push', 'from-spec', 'f.yaml'], want: ['push', 'from-spec', '--type', 'oci', 'f.yaml'] },
  { name: 'global options stay where they are', argv: ['push', '--plain-http', 'from-spec', 'f.yaml', '-debug'], want: ['push', '--plain-http', 'from-spec', 'f.yaml', '--debug'] },
  { name: 'short options keep their meaning', argv: ['-u', 'alice', '-p', 'pw', 'pushml', '-q', 'f.yaml'], want: ['-u', 'alice', '-p', 'pw', 'pushml', '-q', 'f.yaml'] },
  { name: 'a short option\'s value is never rewritten', argv: ['-p', '-plain-http', 'inspect', 'r/a:1'], want: ['-p', '-plain-http', 'inspect', 'r/a:1'] },
  { name: 'a long option\'s value is never rewritten', argv: ['--username', '-insecure', 'inspect', 'r/a:1'], want: ['--username', '-insecure', 'inspect', 'r/a:1'] },
  { name: 'an unknown single-dash word is left for commander', argv: ['-plainhttp', 'inspect', 'r/a:1'], want: ['-plainhttp', 'inspect', 'r/a:1'] },
  { name: 'a switch with a value that is not a Go boolean is left to be refused', argv: ['--debug=yes', 'inspect', 'r/a:1'], want: ['--debug=yes', 'inspect', 'r/a:1'] },
  { name: 'nothing after --', argv: ['pushml', '--', '-plain-http'], want: ['pushml', '--', '-plain-http'] },
  { name: '"-" (standard input) is an argument', argv: ['pushml', '-', '-debug'], want: ['pushml', '-', '--debug'] },
  { name: '-help and -version', argv: ['-help'], want: ['--help'] },
];

describe('normalizeArgv', () => {
  for (const c of cases) test(c.name, () => assert.deepEqual(normalizeArgv(program, c.argv), c.want));
});

describe('manifest-tool command lines through the CLI', () => {
  const spec = 'image: 127.0.0.1:1/app:1\nmanifests:\n  - image: 127.0.0.1:1/app:amd64\n    platform: {architecture: amd64, os: linux}\n';
  test('push --type oci from-spec is accepted (and reaches the network)', async () => {
    const x = io(spec);
    const code = await run(['push', '--type', 'oci', 'from-spec', '-', '-plain-http'], x);
    assert.equal(code, 6, x.err());
    assert.match(x.err(), /127\.0\.0\.1:1/);
  });
  test('-plain-http is not read as -p with a password', async () => {
    const x = io(spec);
    const code = await run(['-plain-http', 'pushml', '-'], x);
    assert.equal(code, 6, x.err());
    assert.doesNotMatch(x.err(), /password/);
  });
  test('-v or --version after a command is a usage error, not the version with nothing run', async () => {
    for (const argv of [['pushml', '-v', 'f.yaml'], ['inspect', '--version', 'r.example/a:1'], ['push', '-v', 'from-spec', 'f.yaml'], ['pushml', '-version', 'f.yaml']]) {
      const x = io(spec);
      assert.equal(await run(argv, x), 2, argv.join(' '));
      assert.equal(x.out(), '', 'no version printed');
      assert.match(x.err(), /^manifest: (-v \(--version\)|--version) goes before the command, as in 'manifest --version'; \S+ has no such option \(for more output: --debug\)\n/);
    }
    const x = io();
    assert.equal(await run(['-v'], x), 0);
    assert.match(x.out(), /^\d+\.\d+\.\d+ \(Node\.js v/);
  });
  test('an option unknown to push and its subcommands is still a usage error', async () => {
    const x = io();
    assert.equal(await run(['push', '--bogus', 'from-spec', 'f.yaml'], x), 2);
    assert.match(x.err(), /unknown option '--bogus'/);
  });
  test('--debug=maybe is a usage error', async () => {
    const x = io();
    assert.equal(await run(['--debug=maybe', 'inspect', 'r.example/a:1'], x), 2);
    assert.match(x.err(), /^manifest: /);
  });
  test('push --type bogus from-spec names the choices', async () => {
    const x = io();
    assert.equal(await run(['push', '--type', 'bogus', 'from-spec', 'f.yaml'], x), 2);
    assert.match(x.err(), /docker, oci/);
  });
});
