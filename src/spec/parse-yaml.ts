/**
 * YAML documents as plain, bounded data, with the line of every value (design.md §5: YAML is hostile input).
 *
 * js-yaml reads with FAILSAFE_SCHEMA, so every scalar is a string: `386` and `1.10` stay text. An alias yields the
 * very object its anchor named, so a "billion laughs" file loads quickly as a small graph; it is the walk over that
 * graph that would explode. We copy each document into a fresh tree, counting every node (an alias counts each time
 * it is used) and the depth, and stop at MAX_YAML_NODES or MAX_YAML_DEPTH: nothing later ever sees a shared or
 * cyclic node, and ajv never walks an expanded bomb.
 *
 * Lines: js-yaml's `listener` option reports the opening and closing of every node it composes. We keep those as a
 * tree of frames (start offset, result, child frames) and, during the copy, pair each value with its frame: the
 * frames under a mapping alternate key, value; those under a sequence are its items. Each pairing is checked by
 * identity (objects) or equality (strings) and skipped when it does not hold (an empty `-` item, a flow `{key}`
 * without value), so a frame is never taken for another node's; an unpaired value falls back to the line of its
 * nearest located ancestor.
 */
import { FAILSAFE_SCHEMA, loadAll, YAMLException, type LoadOptions, type State } from 'js-yaml';
import { clipInput } from '../errors.js';
import type { SpecIssue } from './spec-error.js';

/** Most nodes one document may expand to, counting an alias each time it is used: refuses alias bombs. */
export const MAX_YAML_NODES = 10_000;
/** Deepest nesting of collections in one document. */
export const MAX_YAML_DEPTH = 64;

/** One YAML document of a file, copied into plain data. */
export interface YamlDocument {
  /** Index of the document in its file (0 for the first). */
  index: number;
  /**
   * The content: strings, arrays, objects without prototype, or null for an empty value. Never shared or cyclic,
   * at most MAX_YAML_NODES nodes and MAX_YAML_DEPTH deep.
   */
  value: unknown;
  /** 1-based line where the document's content starts. */
  line: number;
  /**
   * Returns the 1-based line of the value at a JSON pointer ("/manifests/1/platform"): the key's line for a mapping
   * value, the item's line for a sequence item, else the line of the nearest ancestor found.
   */
  lineOf(pointer: string): number;
}

/** What parseYamlDocuments found in one text. */
export interface ParsedYaml {
  /** Documents in file order, empty ones included (value null). Empty when the text has a syntax error. */
  documents: YamlDocument[];
  /** Syntax errors and exceeded limits, at most one per document; a syntax error ends the file. */
  issues: SpecIssue[];
}

interface Frame {
  /** Offset in js-yaml's input where composing the node began (before any white space or comment it skips). */
  start: number;
  /** Offset where js-yaml stopped after the node. */
  end: number;
  result: unknown;
  children: Frame[];
}

class LimitExceeded extends Error {}

/** Escapes one JSON pointer segment (RFC 6901), as ajv's instancePath does. */
export function escapePointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Limits of parseYamlDocuments. */
export interface ParseYamlOptions {
  /** Most values one document may expand to; when omitted, MAX_YAML_NODES (a Kubernetes CRD needs more). */
  maxNodes?: number;
}

/** Parses every YAML document of `text` into bounded plain data with line numbers; problems become issues of `file`. */
export function parseYamlDocuments(text: string, file: string, limits: ParseYamlOptions = {}): ParsedYaml {
  const roots: Frame[] = [];
  const stack: Frame[] = [];
  // The first frame that closes with a collection is the one that read its content; later ones (aliases, or the
  // composeNode that wrapped an attempt at a block mapping) have the same result and fewer or no children.
  const contentFrames = new WeakMap<object, Frame>();
  let input = text;
  const options: LoadOptions & { maxDepth: number } = {
    schema: FAILSAFE_SCHEMA,
    // Honoured by js-yaml 4.3 and newer; older 4.x recurse without a limit, and the RangeError is caught below.
    maxDepth: MAX_YAML_DEPTH,
    listener(event: 'open' | 'close', state: State) {
      if (event === 'open') {
        input = state.input;
        stack.push({ start: state.position, end: state.position, result: undefined, children: [] });
        return;
      }
      const frame = stack.pop();
      if (frame === undefined) return;
      frame.result = state.result as unknown;
      frame.end = state.position;
      if (typeof frame.result === 'object' && frame.result !== null && !contentFrames.has(frame.result)) {
        contentFrames.set(frame.result, frame);
      }
      const parent = stack[stack.length - 1];
      if (parent === undefined) roots.push(frame);
      else parent.children.push(frame);
    },
  };

  let values: unknown[];
  try {
    values = loadAll(text, null, options);
  } catch (err) {
    return { documents: [], issues: [syntaxIssue(err, file)] };
  }

  const lines = new LineIndex(input);
  const documents: YamlDocument[] = [];
  const issues: SpecIssue[] = [];
  values.forEach((value, index) => {
    const root = roots[index];
    const line = root === undefined ? 1 : lines.lineAt(contentStart(input, root.start));
    const located = new Map<string, number>();
    const walk = new Walk(input, lines, contentFrames, located, limits.maxNodes ?? MAX_YAML_NODES);
    try {
      const copy = walk.copy(value, root, '', 0);
      documents.push({ index, value: copy, line, lineOf: (pointer) => lineOfPointer(located, pointer, line) });
    } catch (err) {
      if (!(err instanceof LimitExceeded)) throw err;
      issues.push({ file, line, path: '', message: err.message });
    }
  });
  return { documents, issues };
}

function syntaxIssue(err: unknown, file: string): SpecIssue {
  if (err instanceof YAMLException) {
    // `reason` is the one-line cause; `message` adds a multi-line snippet of the file. A reason can quote a tag or
    // an alias name of any length.
    const reason = /^nesting exceeded maxDepth/.test(err.reason) ? `nesting is deeper than ${MAX_YAML_DEPTH} levels` : clipInput(err.reason, 160);
    return { file, line: err.mark.line + 1, column: err.mark.column + 1, path: '', message: `invalid YAML: ${reason}` };
  }
  if (err instanceof RangeError) {
    return { file, path: '', message: `invalid YAML: nesting is too deep` };
  }
  throw err;
}

function lineOfPointer(located: ReadonlyMap<string, number>, pointer: string, fallback: number): number {
  let path = pointer;
  for (;;) {
    const line = located.get(path);
    if (line !== undefined) return line;
    if (path === '') return fallback;
    path = path.slice(0, path.lastIndexOf('/'));
  }
}

/** Returns the offset of the first character of a node that js-yaml began composing at `from`. */
function contentStart(input: string, from: number): number {
  let i = from;
  for (;;) {
    const ch = input[i];
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      i += 1;
    } else if (ch === '#') {
      while (i < input.length && input[i] !== '\n' && input[i] !== '\r') i += 1;
    } else {
      return i;
    }
  }
}

/** Maps offsets to 1-based lines, counting line breaks as js-yaml does ("\n", "\r\n" or a lone "\r"). */
class LineIndex {
  private readonly starts: number[] = [0];

  constructor(input: string) {
    for (let i = 0; i < input.length; i += 1) {
      const ch = input.charCodeAt(i);
      if (ch === 0x0a || (ch === 0x0d && input.charCodeAt(i + 1) !== 0x0a)) this.starts.push(i + 1);
    }
  }

  lineAt(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }
}

class Walk {
  private nodes = 0;

  constructor(
    private readonly input: string,
    private readonly lines: LineIndex,
    private readonly contentFrames: WeakMap<object, Frame>,
    private readonly located: Map<string, number>,
    private readonly maxNodes: number,
  ) {}

  /** Copies `value` (located by `frame` when known) at `pointer`, counting nodes and depth. */
  copy(value: unknown, frame: Frame | undefined, pointer: string, depth: number): unknown {
    this.nodes += 1;
    if (this.nodes > this.maxNodes) {
      throw new LimitExceeded(`the document has more than ${this.maxNodes} values (counting each use of a YAML alias)`);
    }
    if (depth > MAX_YAML_DEPTH) throw new LimitExceeded(`nesting is deeper than ${MAX_YAML_DEPTH} levels`);
    if (frame !== undefined && !this.located.has(pointer)) {
      this.located.set(pointer, this.lines.lineAt(contentStart(this.input, frame.start)));
    }
    if (Array.isArray(value)) return this.copySequence(value as unknown[], pointer, depth);
    if (typeof value === 'object' && value !== null) return this.copyMapping(value as Record<string, unknown>, pointer, depth);
    return typeof value === 'string' ? value : null;
  }

  private copySequence(items: readonly unknown[], pointer: string, depth: number): unknown[] {
    const content = this.contentFrames.get(items);
    const frames = content?.children ?? [];
    let next = 0;
    // Where to look for the "-" of an item js-yaml composed no node for (an empty item of a block sequence).
    let cursor = content?.start;
    const out: unknown[] = [];
    items.forEach((item, index) => {
      const candidate = frames[next];
      const frame = candidate !== undefined && candidate.result === item ? candidate : undefined;
      const itemPointer = `${pointer}/${index}`;
      if (frame !== undefined) {
        next += 1;
        cursor = frame.end;
      } else if (cursor !== undefined) {
        const dash = contentStart(this.input, cursor);
        if (this.input[dash] === '-') {
          this.located.set(itemPointer, this.lines.lineAt(dash));
          cursor = dash + 1;
        } else {
          cursor = undefined;
        }
      }
      out.push(this.copy(item, frame, itemPointer, depth + 1));
    });
    return out;
  }

  private copyMapping(mapping: Record<string, unknown>, pointer: string, depth: number): Record<string, unknown> {
    const frames = this.contentFrames.get(mapping)?.children ?? [];
    const valueFrames = new Map<string, Frame>();
    for (let i = 0; i < frames.length; i += 1) {
      const key = frames[i]?.result;
      if (typeof key !== 'string' || !Object.hasOwn(mapping, key) || this.located.has(`${pointer}/${escapePointerSegment(key)}`)) continue;
      this.located.set(`${pointer}/${escapePointerSegment(key)}`, this.lines.lineAt(contentStart(this.input, frames[i]?.start ?? 0)));
      const valueFrame = frames[i + 1];
      if (valueFrame !== undefined && valueFrame.result === mapping[key]) {
        valueFrames.set(key, valueFrame);
        i += 1;
      }
    }
    // No prototype: a "__proto__" key stays an ordinary (and, to the schema, unknown) key.
    const out = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(mapping)) {
      out[key] = this.copy(mapping[key], valueFrames.get(key), `${pointer}/${escapePointerSegment(key)}`, depth + 1);
    }
    return out;
  }
}
