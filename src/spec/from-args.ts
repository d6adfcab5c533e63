/**
 * `push from-args` flags to a PushSpec, with manifest-tool's semantics: each platform of --platforms names its
 * source image by substituting OS, ARCH and VARIANT in --template ("r.example/app-OS-ARCHVARIANT:1.0" gives
 * r.example/app-linux-armv7:1.0 for linux/arm/v7 and r.example/app-linux-amd64:1.0 for linux/amd64).
 */
import { clipInput, ManifestError, withContext } from '../errors.js';
import { formatPlatform, parsePlatform, platformKey } from '../platform.js';
import { parseReference } from '../ref.js';
import { checkTag, parseTargetReference, specOfFlags } from './parse-target.js';
import type { PushSpec, PushSpecEntry } from './types.js';

/** Options of specFromArgs: the flags of `push from-args`. */
export interface SpecFromArgsOptions {
  /** --platforms: comma-separated os/architecture[/variant] ("linux/amd64,linux/arm/v7"). */
  platforms: string;
  /**
   * --template: the source image with OS, ARCH and VARIANT placeholders; any of them may be left out while every
   * platform still names a distinct image (REG/app:OS for linux/amd64,windows/amd64).
   */
  template: string;
  /** --target: where the list is pushed, by tag. */
  target: string;
  /** --tags: further tags of the target repository; when omitted, only the target's tag. */
  tags?: readonly string[] | undefined;
  /** --annotations: annotations of the list itself; when omitted, none. */
  annotations?: Readonly<Record<string, string>> | undefined;
}

const PLACEHOLDERS = /OS|ARCH|VARIANT/g;

/** Builds the spec `push from-args` pushes, or throws USAGE, INVALID_PLATFORM or INVALID_REFERENCE naming the flag. */
export function specFromArgs(options: SpecFromArgsOptions): PushSpec {
  const target = wrap('--target', () => parseTargetReference(options.target));
  const tags = options.tags ?? [];
  for (const tag of tags) wrap('--tags', () => checkTag(tag));

  const items = options.platforms.split(',').map((item) => item.trim());
  if (items.every((item) => item === '')) throw new ManifestError('USAGE', '--platforms is empty: give os/architecture[/variant], such as linux/amd64,linux/arm64');
  const byKey = new Map<string, string>();
  const byImage = new Map<string, string>();
  const manifests: PushSpecEntry[] = [];
  for (const item of items) {
    if (item === '') throw new ManifestError('USAGE', `--platforms "${clipInput(options.platforms, 120)}" has an empty item (two commas, or one at an end)`);
    const platform = wrap('--platforms', () => parsePlatform(item));
    const key = platformKey(platform);
    const same = byKey.get(key);
    if (same !== undefined) {
      throw new ManifestError('INVALID_PLATFORM', `--platforms names one platform twice: "${clipInput(same, 120)}" and "${clipInput(item, 120)}"`);
    }
    byKey.set(key, item);
    const text = substitute(options.template, item);
    const image = wrap(`--template for ${formatPlatform(platform)}`, () => parseReference(text));
    const clash = byImage.get(image.toString());
    if (clash !== undefined) {
      throw new ManifestError('USAGE', `--template gives the same image ${image.original} for ${clash} and ${item}: add the placeholder that tells them apart (ARCH, VARIANT, OS)`);
    }
    byImage.set(image.toString(), item);
    manifests.push({ image, platform });
  }

  return specOfFlags(target, tags, options.annotations, manifests, '--template');
}

/**
 * Replaces OS, ARCH and VARIANT in one pass (a substituted value is never substituted again) with the segments
 * as the user typed them: "linux/arm64/v8" names r/app-arm64v8 as manifest-tool does (and the list records v8).
 */
function substitute(template: string, typed: string): string {
  const [os = '', architecture = '', variant = ''] = typed.toLowerCase().split('/');
  const values: Readonly<Record<string, string>> = { OS: os.replace(/\(.*\)$/, ''), ARCH: architecture, VARIANT: variant };
  return template.replace(PLACEHOLDERS, (placeholder) => values[placeholder] ?? placeholder);
}

function wrap<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw withContext(flag, err);
  }
}
