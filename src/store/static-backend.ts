/**
 * What a static registry needs from the place its files live (a directory, a bucket): objects by key, written
 * whole or not at all. The registry layout on top of it is static-store.ts's job.
 */
import type { Readable } from 'node:stream';
import type { CallOptions } from '../registry/client.js';

/** One stored object: its key under the store's root, its size and when it was last written. */
export interface StoredObject {
  key: string;
  size: number;
  modified: Date;
}

/** An object read whole, with the Content-Type it is served with when the store keeps one. */
export interface ReadObject {
  bytes: Uint8Array;
  contentType?: string;
}

/** Objects by key ("v2/team/app/blobs/sha256:…"), keys always "/"-separated and relative to the store's root. */
export interface StaticBackend {
  /** The store's root for messages ("dir:/srv/www", "s3://bucket/prefix"). */
  readonly description: string;
  /** Returns the object's size and time, or undefined when there is none. */
  stat(key: string, options?: CallOptions): Promise<StoredObject | undefined>;
  /** Reads an object whole, refusing (TOO_LARGE) one of more than `maxBytes`; undefined when there is none. */
  read(key: string, maxBytes: number, options?: CallOptions): Promise<ReadObject | undefined>;
  /** Opens an object as a stream; undefined when there is none. The caller destroys the stream. */
  open(key: string, options?: CallOptions): Promise<Readable | undefined>;
  /**
   * Writes an object atomically: readers see the old object or the whole new one, never part of it; when `body`
   * fails (a digest mismatch in a verifying stream) nothing is left behind.
   */
  write(key: string, body: Uint8Array | Readable, info: { contentType: string; size: number }, options?: CallOptions): Promise<void>;
  /** Lists every object whose key starts with `prefix` (which ends with "/"), in no particular order. */
  list(prefix: string, options?: CallOptions): Promise<StoredObject[]>;
  /** Removes an object; removing one that is not there is not an error. */
  remove(key: string, options?: CallOptions): Promise<void>;
}
