// A docker credential helper for tests (docker-credential-fake): speaks the helper protocol (get, store, erase,
// list) and keeps what it is given as one JSON file per server in a directory, so tests can see what was stored.
import { chmod, mkdir, readdir, readFile } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the fake helper lives and keeps its credentials. */
export interface FakeCredentialHelper {
  /** Directory to put first on PATH. */
  binDir: string;
  /** Environment the helper needs: PATH with binDir first, and where it stores. */
  env: Record<string, string>;
  /** Returns what the helper holds, by server URL. */
  stored(): Promise<Record<string, { Username: string; Secret: string }>>;
}

const SCRIPT = `#!/usr/bin/env node
const { readFileSync, writeFileSync, rmSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const dir = process.env.FAKE_CREDENTIAL_STORE;
const input = readFileSync(0, 'utf8').trim();
const file = (server) => join(dir, encodeURIComponent(server) + '.json');
const action = process.argv[2];
if (action === 'store') {
  const { ServerURL, Username, Secret } = JSON.parse(input);
  writeFileSync(file(ServerURL), JSON.stringify({ ServerURL, Username, Secret }));
} else if (action === 'get') {
  try { process.stdout.write(readFileSync(file(input), 'utf8')); }
  catch { process.stdout.write('credentials not found in native keychain'); process.exit(1); }
} else if (action === 'erase') {
  try { rmSync(file(input)); }
  catch { process.stdout.write('credentials not found in native keychain'); process.exit(1); }
} else if (action === 'list') {
  const out = {};
  for (const name of readdirSync(dir)) { const c = JSON.parse(readFileSync(join(dir, name), 'utf8')); out[c.ServerURL] = c.Username; }
  process.stdout.write(JSON.stringify(out));
} else { process.stderr.write('unknown action ' + action); process.exit(2); }
`;

/** Installs docker-credential-fake under `dir` (a CommonJS script run by the node on PATH). */
export async function installFakeCredentialHelper(dir: string): Promise<FakeCredentialHelper> {
  const binDir = join(dir, 'helper-bin');
  const storeDir = join(dir, 'helper-store');
  await mkdir(binDir, { recursive: true });
  await mkdir(storeDir, { recursive: true });
  // .cjs is not needed: a file without extension outside any package.json "type": "module" scope is CommonJS.
  const program = join(binDir, 'docker-credential-fake');
  await writeFile(program, SCRIPT);
  await chmod(program, 0o755);
  await writeFile(join(binDir, 'package.json'), '{"type": "commonjs"}\n');
  return {
    binDir,
    env: { PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, FAKE_CREDENTIAL_STORE: storeDir },
    async stored() {
      const out: Record<string, { Username: string; Secret: string }> = {};
      for (const name of await readdir(storeDir)) {
        const c = JSON.parse(await readFile(join(storeDir, name), 'utf8')) as { ServerURL: string; Username: string; Secret: string };
        out[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
      }
      return out;
    },
  };
}
