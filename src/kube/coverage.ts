/**
 * Which image platforms serve which node platforms, as a node's container runtime chooses (containerd's platform
 * matcher): same os and architecture; an arm node (v7 unless it says otherwise) runs arm images of its variant or
 * an older one, as does an amd64 node of a micro-architecture level; arm64 = arm64/v8; a Windows node needs its
 * build (10.0.17763) when the image names one. Pure.
 */
import { normalizePlatform, type Platform } from '../platform.js';

/** Variants in the order a CPU of the later one also runs the earlier ones. */
const VARIANT_ORDER: Readonly<Record<string, readonly string[]>> = {
  arm: ['v5', 'v6', 'v7', 'v8'],
  amd64: ['v1', 'v2', 'v3', 'v4'],
};

/** The variant a platform means when it names none (arm is v7; arm64 v8, which normalizePlatform drops). */
function variantOf(platform: Platform): string | undefined {
  if (platform.variant !== undefined && platform.variant !== '') return platform.variant;
  if (platform.architecture === 'arm') return 'v7';
  if (platform.architecture === 'amd64') return 'v1';
  return undefined;
}

/** Returns the build of a Windows version: its first three numbers ("10.0.17763" of "10.0.17763.5830"). */
function buildOf(version: string): string {
  return version.split('.').slice(0, 3).join('.');
}

/** Tells whether the image's variant runs on the node's (both normalised, same architecture). */
function variantRuns(have: Platform, want: Platform): boolean {
  const order = VARIANT_ORDER[want.architecture];
  if (order === undefined) {
    return want.variant === undefined || want.variant === '' || have.variant === undefined || have.variant === '' || want.variant === have.variant;
  }
  // An amd64 node of unknown level runs any amd64 image its runtime offers; arm defaults to v7 on both sides.
  if (want.architecture === 'amd64' && (want.variant === undefined || want.variant === '')) return true;
  const wanted = order.indexOf(variantOf(want) ?? '');
  const offered = order.indexOf(variantOf(have) ?? '');
  return wanted >= 0 && offered >= 0 && offered <= wanted;
}

/** Tells whether an image of platform `image` runs on a node that needs `node`. */
export function covers(image: Platform, node: Platform): boolean {
  const have = normalizePlatform(image);
  const want = normalizePlatform(node);
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  if (!variantRuns(have, want)) return false;
  const wantVersion = want['os.version'];
  const haveVersion = have['os.version'];
  // Process-isolated Windows containers need the node's build; an image that names none is left to the runtime.
  if (want.os === 'windows' && wantVersion !== undefined && haveVersion !== undefined && buildOf(wantVersion) !== buildOf(haveVersion)) return false;
  return true;
}

/** Returns the platforms of `needed` that no platform of `offered` covers, in the order of `needed`. */
export function uncoveredPlatforms(needed: readonly Platform[], offered: readonly Platform[]): Platform[] {
  return needed.filter((node) => !offered.some((image) => covers(image, node)));
}
