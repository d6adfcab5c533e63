/** The package's version, read once from package.json (two levels above the compiled dist/src/cli/). */
import { readFileSync } from 'node:fs';

let version: string | undefined;

/** Returns the version in package.json. */
export function packageVersion(): string {
  if (version === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    version = pkg.version ?? '0.0.0';
  }
  return version;
}
