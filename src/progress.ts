/**
 * Progress events a long operation reports to the progress sink its caller passes in (design.md §2: the library
 * writes nothing itself; the CLI draws them on a terminal).
 */

/** What happened: a source or image resolved (of a known total), or a blob made present in a repository. */
export type ProgressEvent =
  | { kind: 'resolved'; done: number; total: number }
  | { kind: 'blob'; outcome: 'present' | 'mounted' | 'copied'; bytes: number };

/** Receives progress events; it must not throw, and is called synchronously. */
export type ProgressSink = (event: ProgressEvent) => void;
