/**
 * Prompt freeing of the buffers that streamed blobs pass through, for the CLI's process.
 *
 * Node gives every socket or file read a fresh buffer (64 KiB) outside V8's heap; V8 frees it only at a garbage
 * collection of the small object that holds it. A blob stream allocates few such objects, so no collection comes
 * until the memory outside the heap has grown by tens of MB and forces a full one; the allocator then hands those
 * pages back to the system and takes fresh, zero-filled ones for the next reads. Copying one 200 MiB layer that
 * way cost ~35 000 page faults and ~0.4 s of CPU more than skopeo's whole run. A young-generation collection
 * (a scavenge, ~0.3 ms) every 2 MiB streamed frees the buffers while their holders are still young, and the
 * allocator reuses the same pages: ~8 000 faults, and the copy at skopeo's pace (README, Performance).
 *
 * Off unless the CLI turns it on: it sets V8's --expose-gc (in a context of its own; the global `gc` stays
 * undefined), which a library must not do to the process it is loaded into.
 */
import { createRequire } from 'node:module';
import type * as NodeV8 from 'node:v8';
import type * as NodeVm from 'node:vm';

/** Streamed bytes between two collections. */
export const RECLAIM_EVERY_BYTES = 2 * 1024 * 1024;

type Collect = (options: { type: 'minor' }) => void;

let enabled = false;
let collect: Collect | undefined;
let streamed = 0;

/** Turns prompt freeing on for this process (the CLI's entry point calls it). */
export function enableBufferReclaim(): void {
  enabled = true;
}

/**
 * Counts `bytes` of blobs passing a hashing stream of this process (a layer compressed on its way passes two)
 * and, every RECLAIM_EVERY_BYTES, runs a young-generation collection. Nothing happens before the first
 * RECLAIM_EVERY_BYTES: small commands never load node:v8 or node:vm. Never throws: it runs inside stream
 * callbacks, and a collector that cannot be had only means no prompt freeing.
 */
export function noteStreamed(bytes: number): void {
  if (!enabled) return;
  streamed += bytes;
  if (streamed < RECLAIM_EVERY_BYTES) return;
  streamed = 0;
  collect ??= exposeCollector();
  try {
    collect({ type: 'minor' });
  } catch {
    collect = noCollector;
  }
}

function noCollector(): void {
  // A runtime without the collector: buffers are freed when V8 collects on its own.
}

function exposeCollector(): Collect {
  try {
    const load = createRequire(import.meta.url);
    (load('node:v8') as typeof NodeV8).setFlagsFromString('--expose-gc');
    // The flag applies to contexts created after it: a new one gets `gc`, this one's global does not change.
    const found: unknown = (load('node:vm') as typeof NodeVm).runInNewContext('typeof gc === "function" ? gc : undefined');
    return typeof found === 'function' ? found as Collect : noCollector;
  } catch {
    return noCollector;
  }
}
