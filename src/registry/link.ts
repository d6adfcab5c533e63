/**
 * The `Link` header of paginated registry lists (distribution spec, "Listing Tags" and the catalog extension;
 * RFC 8288 syntax): `</v2/app/tags/list?last=b&n=100>; rel="next"`. Only the `next` relation is read.
 */

/** Longest Link header value read; a longer one is taken as having no next page. */
const MAX_LINK_LENGTH = 8192;

/**
 * Returns the target of the `rel="next"` link among Link header values, as written (relative or absolute), or
 * undefined when there is none. `rel` may hold several relation types ("next last"); parameters may be unquoted.
 */
export function parseNextLink(values: readonly string[]): string | undefined {
  for (const value of values) {
    if (value.length > MAX_LINK_LENGTH) continue;
    // Each link is "<target>" followed by ";param" pieces, up to the comma before the next "<".
    for (const match of value.matchAll(/<([^<>]*)>([^<]*)/g)) {
      const target = match[1] ?? '';
      const params = match[2] ?? '';
      const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
      const relations = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
      if (relations.includes('next') && target !== '') return target;
    }
  }
  return undefined;
}
