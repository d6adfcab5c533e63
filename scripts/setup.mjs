#!/usr/bin/env node
// Installs what the project's commands need, only when missing, so `npm test` and `npm run demo` work in a
// fresh clone: --npm installs node_modules (npm ci); --system installs Debian's docker-registry, skopeo,
// apache2-utils (htpasswd), openssl, zsh and fish (completion tests), nginx, apache2, caddy and podman (static registries)
// with apt-get when running as root; --bench also installs buildah, a peer the benchmark compares with, where apt
// can (best effort: the benchmark measures without it). Plain Node: no dependencies.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const say = (text) => process.stderr.write(`setup: ${text}\n`);

function npmDependenciesPresent() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  return names.every((name) => existsSync(join(root, 'node_modules', name, 'package.json')));
}

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    say(`${command} ${commandArgs.join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

if (args.has('--npm') && !npmDependenciesPresent()) {
  say('installing npm dependencies');
  // --ignore-scripts: the caller compiles right after; "prepare" would compile twice.
  run('npm', [existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund', '--ignore-scripts']);
}

if (args.has('--system')) {
  // nginx, Apache and Caddy serve static registries in their tests; podman pulls from them as a second client.
  const wanted = [['docker-registry', 'docker-registry'], ['skopeo', 'skopeo'], ['htpasswd', 'apache2-utils'], ['openssl', 'openssl'], ['zsh', 'zsh'], ['fish', 'fish'], ['nginx', 'nginx'], ['apache2', 'apache2'], ['caddy', 'caddy'], ['podman', 'podman']];
  const missing = wanted.filter(([command]) => !onPath(command));
  if (missing.length > 0) {
    const packages = missing.map(([, pkg]) => pkg);
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (isRoot && onPath('apt-get')) {
      say(`installing Debian packages: ${packages.join(' ')}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
    } else {
      const text = `missing ${missing.map(([c]) => c).join(', ')}: install the Debian packages ${packages.join(' ')} (apt-get install ${packages.join(' ')})`;
      if (process.env.CI) {
        say(text);
        process.exit(1);
      }
      say(`${text}; integration tests will be skipped`);
    }
  }
}

if (args.has('--bench') && !onPath('buildah')) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && onPath('apt-get')) {
    say('installing buildah for the benchmark');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'buildah'], { stdio: ['ignore', 'ignore', 'inherit'], env }) : update;
    if (install.status !== 0) say('could not install buildah; the benchmark runs without its rows');
  } else {
    say('buildah is not installed (apt-get install buildah); the benchmark runs without its rows');
  }
}
