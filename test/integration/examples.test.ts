// Every file of examples/ run as a user would (and the repository's action.yml, as a workflow's `uses:` runs it), against a TLS + basic-auth registry: the CI examples' join steps
// (their `npx -p multiarch-manifest manifest …` lines run this checkout through a stand-in npx), from-args.sh and
// prometheus.yaml. (examples/kubernetes/ is run by check.test.ts, check-platforms.sh by inspect.test.ts,
// library.ts by package.test.ts against the packed package.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { load } from 'js-yaml';
import { registryAvailable, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCommand } from '../helpers/run-command.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const skipReason = registryAvailable() ? false : 'docker-registry or skopeo is not installed (npm test installs them as root)';
if (skipReason !== false && process.env.CI) throw new Error(`CI needs docker-registry and skopeo: ${skipReason}`);

interface Step { name?: string; run?: string; env?: Record<string, string>; uses?: string }
interface Workflow {
  env: Record<string, string>;
  jobs: { build: { strategy: { matrix: { include: { runner: string; arch: string }[] } }; steps: Step[] }; join: { needs: string; steps: Step[] } };
}

describe('examples/ against a real registry', { skip: skipReason, timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    registry = await startRegistry('basic');
    dir = await mkdtemp(join(tmpdir(), 'manifest-examples-'));
    const bin = join(dir, 'bin');
    await mkdir(bin);
    // Stands in for npx: the examples run the published package; here that is this checkout's command.
    await writeFile(join(bin, 'npx'), `#!/bin/sh
[ "$1" = "--yes" ] && shift
case "$2" in multiarch-manifest|multiarch-manifest@*) ;; *) echo "unexpected package: npx $*" >&2; exit 99 ;; esac
if [ "$1" != "-p" ] || [ "$3" != "manifest" ]; then echo "unexpected: npx $*" >&2; exit 99; fi
shift 3
exec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(repoRoot, 'bin', 'manifest.js'))} "$@"
`);
    await chmod(join(bin, 'npx'), 0o755);
    // The registry's CA where docker keeps it (certs.d layout), and an empty docker config: no flags needed.
    env = {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: join(dir, 'home'),
      DOCKER_CONFIG: join(dir, 'docker'),
      MANIFEST_CERTS_DIR: registry.certsDir ?? '',
    };
  });
  after(async () => {
    await registry?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const bash = (script: string, extra: Record<string, string> = {}, cwd = dir) => runCommand('bash', ['-e', '-c', script], { cwd, env: { ...env, ...extra }, timeoutMs: 120_000 });
  const seedPlatforms = async (repository: string, tags: Record<string, { os: string; architecture: string; variant?: string }>) => {
    for (const [tag, platform] of Object.entries(tags)) await registry.seedImage({ repository, tag, platform });
  };
  const platformsOf = async (ref: string): Promise<string[]> => {
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${ref}`]);
    assert.equal(raw.code, 0, raw.stderr);
    const list = JSON.parse(raw.stdout) as { manifests: { platform: { os: string; architecture: string; variant?: string } }[] };
    return list.manifests.map((m) => [m.platform.os, m.platform.architecture, m.platform.variant].filter((v) => v !== undefined).join('/'));
  };

  test('github-actions.yml: native amd64 and arm64 runners build; the join job logs in and joins their tags', async () => {
    const workflow = load(await readFile(join(repoRoot, 'examples', 'github-actions.yml'), 'utf8')) as Workflow;
    assert.deepEqual(workflow.jobs.build.strategy.matrix.include, [{ runner: 'ubuntu-24.04', arch: 'amd64' }, { runner: 'ubuntu-24.04-arm', arch: 'arm64' }]);
    const build = workflow.jobs.build.steps.map((s) => s.run ?? '').join('\n');
    assert.match(build, /--tag "\$IMAGE:\$GITHUB_SHA-\$\{\{ matrix\.arch \}\}" --push/);
    assert.equal(workflow.jobs.join.needs, 'build');
    // Built on arm64, an image's config says variant v8 (as buildx writes it); the list keeps it, as docker's official images do.
    // What the build jobs would have pushed.
    await seedPlatforms('org/app', { 'abc123-amd64': { os: 'linux', architecture: 'amd64' }, 'abc123-arm64': { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const summary = join(dir, 'summary.md');
    const stepEnv: Record<string, string> = { REGISTRY_USER: registry.username ?? '', REGISTRY_PASSWORD: registry.password ?? '' };
    for (const step of workflow.jobs.join.steps.filter((s) => s.run !== undefined)) {
      // ghcr.io is pointed at the test registry; ${{ … }} values come from the step's env.
      const script = (step.run ?? '').replaceAll('ghcr.io', registry.host);
      const variables = Object.fromEntries(Object.keys(step.env ?? {}).map((k) => [k, stepEnv[k] ?? '']));
      const r = await bash(script, { ...variables, IMAGE: `${registry.host}/org/app`, GITHUB_SHA: 'abc123', GITHUB_STEP_SUMMARY: summary });
      assert.equal(r.code, 0, `${step.name ?? ''}: ${r.stderr}`);
    }
    assert.deepEqual(await platformsOf(`${registry.host}/org/app:abc123`), ['linux/amd64', 'linux/arm64/v8']);
    assert.deepEqual(await platformsOf(`${registry.host}/org/app:latest`), ['linux/amd64', 'linux/arm64/v8']);
    assert.match(await readFile(summary, 'utf8'), new RegExp(`^pushed ${registry.host}/org/app@sha256:[0-9a-f]{64}\\n$`));
  });

  test('gitlab-ci.yml: the manifest job joins what the build jobs pushed', async () => {
    const pipeline = load(await readFile(join(repoRoot, 'examples', 'gitlab-ci.yml'), 'utf8')) as Record<string, { tags?: string[]; script?: string[]; needs?: string[]; variables?: Record<string, string> }>;
    assert.deepEqual([pipeline['build-amd64']?.tags, pipeline['build-arm64']?.tags], [['saas-linux-small-amd64'], ['saas-linux-small-arm64']]);
    assert.deepEqual(pipeline.manifest?.needs, ['build-amd64', 'build-arm64']);
    assert.match((pipeline['.build']?.script ?? []).join('\n'), /"\$CI_REGISTRY_IMAGE:\$CI_COMMIT_SHORT_SHA-\$ARCH"/);
    await seedPlatforms('group/app', { 'def456-amd64': { os: 'linux', architecture: 'amd64' }, 'def456-arm64': { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const work = join(dir, 'gitlab');
    await mkdir(work);
    const r = await bash((pipeline.manifest?.script ?? []).join('\n'), {
      CI_REGISTRY: registry.host,
      CI_REGISTRY_IMAGE: `${registry.host}/group/app`,
      CI_COMMIT_SHORT_SHA: 'def456',
      CI_REGISTRY_USER: registry.username ?? '',
      CI_REGISTRY_PASSWORD: registry.password ?? '',
      DOCKER_CONFIG: join(dir, 'gitlab-docker'),
    }, work);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /is a manifest list containing the following 2 manifest references/);
    assert.deepEqual(await platformsOf(`${registry.host}/group/app:latest`), ['linux/amd64', 'linux/arm64/v8']);
    assert.match(await readFile(join(work, 'digest.txt'), 'utf8'), /^sha256:[0-9a-f]{64}\n$/);
  });

  test('from-args.sh and prometheus.yaml', async () => {
    await seedPlatforms('app', {
      '1.4.0-linux-amd64': { os: 'linux', architecture: 'amd64' },
      '1.4.0-linux-arm64': { os: 'linux', architecture: 'arm64', variant: 'v8' },
      '1.4.0-linux-armv7': { os: 'linux', architecture: 'arm', variant: 'v7' },
    });
    // Logged in first, as a CI job would be (the docker config of this suite), so the script needs no credential flags.
    const login = await bash(`printf '%s\\n' "$PW" | npx -p multiarch-manifest manifest login -u ${registry.username ?? ''} --password-stdin ${registry.host}`, { PW: registry.password ?? '' });
    assert.equal(login.code, 0, login.stderr);
    const fromArgs = await runCommand('bash', [join(repoRoot, 'examples', 'from-args.sh')], {
      cwd: dir,
      env: { ...env, REGISTRY: registry.host, VERSION: '1.4.0', MANIFEST: `${process.execPath} ${join(repoRoot, 'bin', 'manifest.js')}` },
      timeoutMs: 120_000,
    });
    assert.equal(fromArgs.code, 0, fromArgs.stderr);
    assert.match(fromArgs.stdout, /^pinned digest: sha256:[0-9a-f]{64}$/m);
    assert.deepEqual(await platformsOf(`${registry.host}/app:1.4.0`), ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7']);

    await seedPlatforms('common/prometheus', {
      '1.1.3-amd64': { os: 'linux', architecture: 'amd64' },
      '1.1.3-arm64': { os: 'linux', architecture: 'arm64', variant: 'v8' },
      '1.1.3-arm': { os: 'linux', architecture: 'arm', variant: 'v7' },
    });
    const spec = join(dir, 'prometheus.yaml');
    await writeFile(spec, (await readFile(join(repoRoot, 'examples', 'prometheus.yaml'), 'utf8')).replaceAll('127.0.0.1:5000', registry.host));
    const push = await bash(`npx -p multiarch-manifest manifest pushml ${JSON.stringify(spec)}`);
    assert.equal(push.code, 0, push.stderr);
    for (const tag of ['1.1.3', '1.1', 'latest']) assert.deepEqual(await platformsOf(`${registry.host}/common/prometheus:${tag}`), ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7']);
  });
  test('action.yml: its steps log in and push a spec; the digest output is what the tag holds', async () => {
    interface ActionStep { name?: string; id?: string; if?: string; run: string; env?: Record<string, string> }
    const action = load(await readFile(join(repoRoot, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { required?: boolean; default?: string }>;
      runs: { using: string; steps: ActionStep[] };
    };
    assert.equal(action.runs.using, 'composite');
    await seedPlatforms('action/app', { 'amd64': { os: 'linux', architecture: 'amd64' }, 'arm64': { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const work = join(dir, 'action');
    await mkdir(work, { recursive: true });
    await writeFile(join(work, 'manifest.yaml'), `image: ${registry.host}/action/app:1\ntags: [latest]\nmanifests:\n  - image: ${registry.host}/action/app:amd64\n  - image: ${registry.host}/action/app:arm64\n`);
    // What a workflow's `with:` gives; the rest take their defaults.
    const given: Record<string, string> = { spec: 'manifest.yaml', registry: registry.host, username: registry.username ?? '', password: registry.password ?? '', args: '--type oci' };
    const inputs = Object.fromEntries(Object.entries(action.inputs).map(([name, input]) => [name, given[name] ?? input.default ?? '']));
    const expand = (text: string): string => text.replace(/\$\{\{\s*inputs\.(\w+)\s*\}\}/g, (_, name: string) => inputs[name] ?? '');
    const output = join(work, 'github-output');
    await writeFile(output, '');
    const runnerEnv = { RUNNER_TEMP: work, GITHUB_OUTPUT: output, DOCKER_CONFIG: join(work, 'docker') };
    let ran = 0;
    for (const step of action.runs.steps) {
      if (step.if === "inputs.registry != ''" && inputs.registry === '') continue;
      const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v)]));
      // The password reaches the step through its environment only, never its script.
      assert.ok(!expand(step.run).includes(registry.password ?? '\0'), `${step.name ?? ''}: no password in the script`);
      const r = await bash(expand(step.run), { ...runnerEnv, ...stepEnv }, work);
      assert.equal(r.code, 0, `${step.name ?? ''}: ${r.stderr}`);
      ran++;
    }
    assert.equal(ran, 2, 'login and push both ran');
    const digest = /^digest=(sha256:[0-9a-f]{64})$/m.exec(await readFile(output, 'utf8'))?.[1];
    assert.ok(digest !== undefined, 'the digest output is set');
    const raw = await registry.skopeo('inspect', ['--raw', `docker://${registry.host}/action/app:latest`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(`sha256:${createHash('sha256').update(raw.stdout).digest('hex')}`, digest);
    assert.equal((JSON.parse(raw.stdout) as { mediaType: string }).mediaType, 'application/vnd.oci.image.index.v1+json', '--type oci from args');
  });
});
