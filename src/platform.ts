/**
 * Platforms ("linux/arm/v7"): parse, format, normalise, validate and match, with the rules of manifest-tool and
 * containerd: os and architecture from Go's GOOS/GOARCH lists, arm variants v5 to v8, arm64 only v8 (or v8.x/v9.x).
 */
import { clipInput, ManifestError } from './errors.js';

/** A platform as the OCI image index describes it (image-index.md#image-index-property-descriptions). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  /** Deprecated Docker field, shown by inspect when present. */
  features?: string[];
}

/** Operating systems Go knows (`go tool dist list`). */
export const KNOWN_OS: ReadonlySet<string> = new Set([
  'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd',
  'openbsd', 'plan9', 'solaris', 'wasip1', 'windows', 'zos',
]);

/** Architectures Go knows. */
export const KNOWN_ARCHITECTURES: ReadonlySet<string> = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'loong64', 'mips', 'mipsle', 'mips64',
  'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'ppc64', 'ppc64le', 'riscv', 'riscv64', 's390', 's390x',
  'sparc', 'sparc64', 'wasm',
]);

const VARIANTS: Readonly<Record<string, RegExp>> = {
  arm: /^v[5-8]$/,
  arm64: /^v(?:8|9)(?:\.[0-9])?$/,
  amd64: /^v[1-4]$/,
};

/**
 * Names other tools and `uname -m` use, mapped to Go's (as containerd's normalisation does). A Map: the name comes
 * from input, and "constructor" must not find Object's own properties.
 */
const ARCH_ALIASES: ReadonlyMap<string, { architecture: string; variant?: string }> = new Map([
  ['x86_64', { architecture: 'amd64' }],
  ['x86-64', { architecture: 'amd64' }],
  ['aarch64', { architecture: 'arm64' }],
  ['armhf', { architecture: 'arm', variant: 'v7' }],
  ['armel', { architecture: 'arm', variant: 'v6' }],
  ['i386', { architecture: '386' }],
  ['i686', { architecture: '386' }],
]);

/** Tells whether a platform is the `unknown/unknown` placeholder of attestation entries. */
export function isUnknownPlatform(platform: Pick<Platform, 'os' | 'architecture'> | undefined): boolean {
  return platform !== undefined && platform.os === 'unknown' && platform.architecture === 'unknown';
}

/**
 * Parses "os/arch[/variant]" (an os.version may follow the os in parentheses: "windows(10.0.17763.1)/amd64"),
 * normalising aliases (aarch64 is arm64, x86_64 is amd64), or throws INVALID_PLATFORM.
 */
export function parsePlatform(text: string): Platform {
  if (text.length > 256) throw new ManifestError('INVALID_PLATFORM', 'invalid platform: longer than 256 characters');
  if (text.includes(',')) {
    throw new ManifestError('INVALID_PLATFORM', `invalid platform "${clipInput(text, 120)}": give one platform (os/architecture[/variant]), not a list`);
  }
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => part === '')) {
    throw new ManifestError('INVALID_PLATFORM', `invalid platform "${clipInput(text, 120)}": expected os/architecture[/variant], such as linux/arm64 or linux/arm/v7`);
  }
  let os = (parts[0] ?? '').toLowerCase();
  let osVersion: string | undefined;
  const paren = /^([a-z0-9]+)\(([A-Za-z0-9._-]+)\)$/.exec(os);
  if (paren !== null) {
    os = paren[1] ?? os;
    osVersion = paren[2];
  }
  const platform: Platform = { os, architecture: (parts[1] ?? '').toLowerCase() };
  if (parts[2] !== undefined) platform.variant = parts[2].toLowerCase();
  if (osVersion !== undefined) platform['os.version'] = osVersion;
  const normalized = normalizePlatform(platform);
  validatePlatform(normalized, text);
  return normalized;
}

/**
 * Returns the platform with architecture aliases mapped (aarch64 is arm64, armhf arm/v7). A variant stays as written:
 * arm64/v8 is recorded as v8, as manifest-tool and Docker's official images write it; arm64 and arm64/v8 are equal
 * only when compared (platformKey, platformMatches).
 */
export function normalizePlatform(platform: Platform): Platform {
  const alias = ARCH_ALIASES.get(platform.architecture);
  const out: Platform = { ...platform };
  if (alias !== undefined) {
    out.architecture = alias.architecture;
    if (out.variant === undefined && alias.variant !== undefined) out.variant = alias.variant;
  }
  return out;
}

/** Throws INVALID_PLATFORM when os, architecture or variant are not ones Go and the OCI spec know. */
export function validatePlatform(platform: Platform, shown: string = formatPlatform(platform)): void {
  // A spec's platform fields have no length limit: messages quote them clipped, to stay one readable line.
  const fail: (reason: string) => never = (reason) => {
    throw new ManifestError('INVALID_PLATFORM', `invalid platform "${clipInput(shown, 120)}": ${reason}`);
  };
  if (!KNOWN_OS.has(platform.os)) fail(`unknown os "${clipInput(platform.os, 40)}" (such as linux or windows)`);
  if (!KNOWN_ARCHITECTURES.has(platform.architecture)) {
    fail(`unknown architecture "${clipInput(platform.architecture, 40)}" (such as amd64, arm64, arm, 386, ppc64le, s390x, riscv64)`);
  }
  if (platform.variant !== undefined && platform.variant !== '') {
    const pattern = VARIANTS[platform.architecture];
    if (pattern === undefined) fail(`architecture ${platform.architecture} has no variants`);
    if (!pattern.test(platform.variant)) {
      const allowed = platform.architecture === 'arm' ? 'v5, v6, v7 or v8' : platform.architecture === 'arm64' ? 'v8, v8.x, v9 or v9.x' : 'v1 to v4';
      fail(`variant "${clipInput(platform.variant, 40)}" is not one of ${allowed} for ${platform.architecture}`);
    }
  }
}

/** Formats a platform as "os/arch[/variant]", with "(os.version)" after the os when present. */
export function formatPlatform(platform: Platform | undefined): string {
  if (platform === undefined) return 'unknown';
  const os = platform['os.version'] === undefined ? platform.os : `${platform.os}(${platform['os.version']})`;
  return `${os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
}

/**
 * Tells whether an image of platform `candidate` satisfies a request for `wanted`: same os and architecture;
 * the variant must match when `wanted` names one (arm64 without a variant is v8); os.version when named.
 */
export function platformMatches(wanted: Platform, candidate: Platform | undefined): boolean {
  if (candidate === undefined) return false;
  const want = normalizePlatform(wanted);
  const have = normalizePlatform(candidate);
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  if (want.variant !== undefined && want.variant !== (have.variant ?? defaultVariantOf(have.architecture))) return false;
  if (want['os.version'] !== undefined && want['os.version'] !== have['os.version']) return false;
  return true;
}

/**
 * Returns the key under which two platforms count as duplicates in one list (design.md §4): os, architecture,
 * variant (arm's default v7 made explicit), os.version and the sorted os.features. Windows lists legitimately
 * repeat windows/amd64 with different os.version values.
 */
export function platformKey(platform: Platform): string {
  const p = normalizePlatform(platform);
  const features = [...(p['os.features'] ?? [])].sort();
  return JSON.stringify([p.os, p.architecture, p.variant ?? defaultVariantOf(p.architecture) ?? '', p['os.version'] ?? '', features]);
}

/** Returns the variant an architecture means when none is named (containerd's rule: arm is v7, arm64 is v8). */
export function defaultVariantOf(architecture: string): string | undefined {
  return architecture === 'arm' ? 'v7' : architecture === 'arm64' ? 'v8' : undefined;
}
