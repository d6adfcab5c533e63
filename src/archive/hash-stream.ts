/** A pass-through stream that hashes and counts what goes through it, for digests computed while streaming. */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { noteStreamed } from '../buffer-reclaim.js';
import type { Digest } from '../digest.js';

/** A pass-through stream with the sha256 digest and byte count of what passed, once it has ended. */
export interface HashingStream extends Transform {
  /** Returns the digest and size; call after the stream has finished. */
  result(): { digest: Digest; size: number };
}

/** Returns a pass-through stream that hashes (sha256) and counts its bytes. */
export function hashingStream(): HashingStream {
  const hash: Hash = createHash('sha256');
  let size = 0;
  let digest: Digest | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      noteStreamed(chunk.length);
      done(null, chunk);
    },
  }) as HashingStream;
  stream.result = () => {
    digest ??= `sha256:${hash.digest('hex')}`;
    return { digest, size };
  };
  return stream;
}

/** Returns the sha256 digest and size of a file's content, streamed. */
export async function fileDigest(path: string, signal?: AbortSignal): Promise<{ digest: Digest; size: number }> {
  const hashing = hashingStream();
  await pipeline(createReadStream(path), hashing, new Writable({ write: (_chunk, _encoding, done) => { done(); } }), { signal });
  return hashing.result();
}
