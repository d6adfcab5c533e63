// `manifest completion`: scripts generated from the program, run in the shells themselves (bash always; zsh and
// fish, which scripts/setup.mjs installs, must be present under CI).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Command } from 'commander';
import { completionScript } from '../../src/cli/completion.js';
import { createProgram } from '../../src/cli/program.js';
import { memoryIo } from '../helpers/memory-io.js';
import { isOnPath } from '../helpers/registry.js';

const io = memoryIo();

function program(): Command {
  return createProgram(io, { secrets: [] });
}

/** Every command path and its long options, walked from the program as commander holds it. */
function declared(command: Command, path: string[] = []): { path: string[]; options: string[] }[] {
  const subs = command.commands.filter((c) => c.name() !== 'help');
  return [{ path, options: command.options.map((o) => o.long ?? '').filter((l) => l !== '') }, ...subs.flatMap((s) => declared(s, [...path, s.name()]))];
}

for (const shell of ['zsh', 'fish']) {
  if (process.env.CI && !isOnPath(shell)) throw new Error(`CI needs ${shell} to check its completion script (scripts/setup.mjs installs it)`);
}

describe('completion', () => {
  let dir: string;
  let bashFile: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifest-completion-'));
    bashFile = join(dir, 'manifest.bash');
    await writeFile(bashFile, completionScript(program(), 'bash'));
    await writeFile(join(dir, 'nodes.json'), '{}');
    await writeFile(join(dir, 'notes.txt'), '');
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  /** Runs the bash completion function on a command line (the last word is the one completed). */
  const complete = (...words: string[]): string[] => {
    const script = `source ${JSON.stringify(bashFile)}; cd ${JSON.stringify(dir)}
COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}
_manifest_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['--norc', '-c', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l !== '').sort();
  };

  test('every shell\'s script names every command and long option the program declares', () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const script = completionScript(program(), shell);
      for (const { path, options } of declared(program())) {
        for (const name of path) assert.ok(script.includes(name), `${shell}: command ${path.join(' ')}`);
        for (const option of options) assert.ok(script.includes(shell === 'fish' ? `-l ${option.slice(2)}` : option), `${shell}: ${path.join(' ')} ${option}`);
      }
    }
  });

  test('a command added to the program completes without any list being edited', () => {
    const p = program();
    p.command('zz-new').description('a new command').option('--zz-flag <file>', 'a file');
    for (const shell of ['bash', 'zsh', 'fish'] as const) assert.match(completionScript(p, shell), /zz-new[\s\S]*--zz-flag|zz-new[\s\S]*-l zz-flag/);
  });

  const cases: [words: string[], expected: string[]][] = [
    [['manifest', 'ch'], ['check']],
    [['manifest', 'lo'], ['login', 'logout']],
    [['manifest', 'push', 'from-'], ['from-args', 'from-spec']],
    [['manifest', 'check', '--nod'], ['--nodes']],
    [['manifest', '--color', ''], ['always', 'auto', 'never']],
    [['manifest', 'check', '--nodes', 'no'], ['nodes.json', 'notes.txt']],
    [['manifest', '--plain-http', 'check', 'no'], ['nodes.json', 'notes.txt']],
    [['manifest', 'push', 'from-spec', '--type', ''], ['auto', 'docker', 'oci']],
    [['manifest', '--ca-file', 'x.pem', 'inspect', '--pl'], ['--plain-http', '--plain-http-host', '--platform']],
    [['manifest', 'inspect', 'r'], []],
    [['manifest', 'completion', ''], ['bash', 'fish', 'zsh']],
  ];
  for (const [words, expected] of cases) {
    test(`bash: "${words.join(' ')}" completes to ${expected.join(' ') || 'nothing'}`, () => assert.deepEqual(complete(...words), expected));
  }

  test('zsh loads its script', { skip: isOnPath('zsh') ? false : 'zsh is not installed' }, async () => {
    const file = join(dir, '_manifest');
    await writeFile(file, completionScript(program(), 'zsh'));
    const r = spawnSync('zsh', ['-f', '-c', `source ${JSON.stringify(file)} && (( $+functions[_manifest_complete] )) && echo loaded`], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, HOME: dir } });
    assert.equal(r.stdout.trim(), 'loaded', r.stderr);
  });

  test('fish completes commands, options, choices and files', { skip: isOnPath('fish') ? false : 'fish is not installed' }, async () => {
    const file = join(dir, 'manifest.fish');
    await writeFile(file, completionScript(program(), 'fish'));
    const run = (line: string): string[] => {
      const r = spawnSync('fish', ['--no-config', '-c', `source ${JSON.stringify(file)}; cd ${JSON.stringify(dir)}; complete -C${JSON.stringify(line)}`], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, HOME: dir } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0] ?? '').sort();
    };
    assert.deepEqual(run('manifest ch'), ['check']);
    assert.deepEqual(run('manifest completion '), ['bash', 'fish', 'zsh']);
    assert.deepEqual(run('manifest push from-spec --type '), ['auto', 'docker', 'oci']);
    assert.deepEqual(run('manifest check --nod'), ['--nodes']);
    assert.deepEqual(run('manifest check --nodes no'), ['nodes.json', 'notes.txt']);
  });
});
