// The images the suite seeds and the specs it pushes: 32 distinct platforms (the eight of the push tests first, so
// 2 and 8 entries are prefixes of 32) and manifest-tool YAML for them.
import type { SeedImageOptions } from '../test/helpers/registry.js';
import { EIGHT_PLATFORMS } from '../test/helpers/platforms.js';

export type BenchPlatform = SeedImageOptions['platform'];

/**
 * 32 platforms no two of which a runtime would confuse (design.md §4's duplicate rule): every Linux architecture
 * Go builds for that images ship, amd64 micro-architecture levels and arm variants, two FreeBSD ports, and
 * Windows Server releases told apart by os.version, as real Windows lists are.
 */
export const THIRTY_TWO_PLATFORMS: readonly BenchPlatform[] = [
  ...EIGHT_PLATFORMS,
  { os: 'linux', architecture: 'amd64', variant: 'v2' },
  { os: 'linux', architecture: 'amd64', variant: 'v3' },
  { os: 'linux', architecture: 'amd64', variant: 'v4' },
  { os: 'linux', architecture: 'arm', variant: 'v5' },
  { os: 'linux', architecture: 'arm64', variant: 'v9' },
  { os: 'linux', architecture: 'riscv64' },
  { os: 'linux', architecture: 'ppc64' },
  { os: 'linux', architecture: 'mips64le' },
  { os: 'linux', architecture: 'mips64' },
  { os: 'linux', architecture: 'mipsle' },
  { os: 'linux', architecture: 'mips' },
  { os: 'linux', architecture: 'loong64' },
  { os: 'freebsd', architecture: 'amd64' },
  { os: 'freebsd', architecture: 'arm64' },
  { os: 'windows', architecture: 'amd64', 'os.version': '10.0.14393.6897' },
  { os: 'windows', architecture: 'amd64', 'os.version': '10.0.19041.1415' },
  { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2227' },
  { os: 'windows', architecture: 'amd64', 'os.version': '10.0.22000.2777' },
  { os: 'windows', architecture: 'amd64', 'os.version': '10.0.22621.2861' },
  { os: 'windows', architecture: 'amd64', 'os.version': '10.0.25398.643' },
  { os: 'windows', architecture: 'amd64', 'os.version': '10.0.26100.1742' },
  { os: 'windows', architecture: 'arm64', 'os.version': '10.0.17763.5329' },
  { os: 'windows', architecture: 'arm64', 'os.version': '10.0.22621.2861' },
  { os: 'windows', architecture: 'arm64', 'os.version': '10.0.26100.1742' },
];

/** The repository every push scenario reads its sources from and pushes its lists to. */
export const PUSH_REPOSITORY = 'bench/app';

/** Tag of the seeded image of THIRTY_TWO_PLATFORMS[i] in PUSH_REPOSITORY. */
export function platformTag(i: number): string {
  return `p-${i}`;
}

export interface SpecEntry {
  image: string;
  /** Omitted: the tool reads it from the image config. */
  platform?: BenchPlatform;
}

/** manifest-tool's YAML; values are JSON strings, which YAML reads as double-quoted scalars. */
export function specYaml(target: string, entries: readonly SpecEntry[]): string {
  const lines = [`image: ${JSON.stringify(target)}`, 'manifests:'];
  for (const entry of entries) {
    lines.push(`  - image: ${JSON.stringify(entry.image)}`);
    const p = entry.platform;
    if (p === undefined) continue;
    lines.push('    platform:', `      architecture: ${JSON.stringify(p.architecture)}`, `      os: ${JSON.stringify(p.os)}`);
    if (p.variant !== undefined) lines.push(`      variant: ${JSON.stringify(p.variant)}`);
    if (p['os.version'] !== undefined) lines.push(`      osversion: ${JSON.stringify(p['os.version'])}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The spec entries for the first `count` seeded platforms on `host`. */
export function platformEntries(host: string, count: number): SpecEntry[] {
  return THIRTY_TWO_PLATFORMS.slice(0, count).map((platform, i) => ({ image: `${host}/${PUSH_REPOSITORY}:${platformTag(i)}`, platform }));
}
