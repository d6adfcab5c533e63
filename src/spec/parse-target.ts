/**
 * Where a list goes, checked the same way for a YAML spec and for from-args flags: a reference by tag (a list is
 * pushed to a tag; a digest names content, not a place), and further tags of the same repository.
 */
import { parseArchiveSource } from '../archive/source.js';
import { clipInput, ManifestError } from '../errors.js';
import { Reference } from '../ref.js';
import type { PushSpec, PushSpecEntry } from './types.js';
import { isStaticTargetText, parseStoreOrRegistryReference } from '../store/static-location.js';

// ref.ts keeps its tag rule to itself; Reference.withTag applies it, on any repository.
const ANY_REPOSITORY = new Reference({ registry: 'localhost', repository: 'tag-check' });

/**
 * Parses the reference a list is pushed to, or throws INVALID_REFERENCE (also when it pins a digest): a registry
 * reference, or a static store's `dir:ROOT//NAME:TAG` or `s3://BUCKET[/PREFIX]//NAME:TAG?…`.
 */
export function parseTargetReference(text: string): Reference {
  if (!isStaticTargetText(text) && parseArchiveSource(text) !== undefined) {
    throw new ManifestError('INVALID_REFERENCE', `invalid target "${clipInput(text, 120)}": a list is pushed to a registry or a static store (dir:, s3://), not to a local archive (manifest export writes layouts)`);
  }
  const target = parseStoreOrRegistryReference(text);
  if (target.digest !== undefined) {
    throw new ManifestError('INVALID_REFERENCE', `invalid target "${target.original}": a list is pushed to a tag, not to a digest`);
  }
  return target;
}

/** Checks one tag to push a list under, or throws INVALID_REFERENCE saying what is wrong with it. */
export function checkTag(tag: string): void {
  try {
    ANY_REPOSITORY.withTag(tag);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    // withTag reports `invalid reference "<tag>": tag "<tag>" may hold only …`; the reason alone names the tag.
    throw new ManifestError(err.code, err.message.replace(/^invalid reference "[^"]*": (?=tag )/, ''), { cause: err });
  }
}

/** Returns the tags to push besides the target's own, in order, each once (duplicates and the target's tag dropped). */
export function furtherTags(target: Reference, tags: readonly string[]): string[] {
  const seen = new Set<string>(target.tag === undefined ? [] : [target.tag]);
  const out: string[] = [];
  for (const tag of tags) {
    if (seen.has(tag)) continue;
    seen.add(tag);
    out.push(tag);
  }
  return out;
}

/**
 * Builds the spec of a command whose flags name the list's target, further tags and annotations (`push from-args`,
 * `push archives`); `label` names the flags in messages. Throws USAGE for an empty annotation key.
 */
export function specOfFlags(target: Reference, tags: readonly string[], annotations: Readonly<Record<string, string>> | undefined, manifests: PushSpecEntry[], label: string): PushSpec {
  const pairs = Object.entries(annotations ?? {});
  if (pairs.some(([key]) => key === '')) throw new ManifestError('USAGE', '--annotations: an annotation key is empty');
  return {
    target,
    tags: furtherTags(target, tags),
    ...(pairs.length === 0 ? {} : { annotations: Object.fromEntries(pairs) }),
    manifests,
    source: { file: label, document: 0 },
  };
}
