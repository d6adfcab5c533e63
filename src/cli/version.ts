/** The package's version: given by the bundle (scripts/bundle.mjs), else read once from package.json. */
import { readFileSync } from 'node:fs';

/** Replaced with package.json's version by esbuild when bundling; not defined in tsc's output. */
declare const MANIFEST_BUNDLED_VERSION: string | undefined;

let version: string | undefined;

/** Returns the version in package.json. */
export function packageVersion(): string {
  if (version === undefined) {
    if (typeof MANIFEST_BUNDLED_VERSION === 'string') {
      version = MANIFEST_BUNDLED_VERSION;
    } else {
      // Two levels above the compiled dist/src/cli/.
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
      version = pkg.version ?? '0.0.0';
    }
  }
  return version;
}
