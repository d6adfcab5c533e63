/** A pass-through stream that hashes and counts a blob's bytes, failing when they are not what its descriptor says. */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { noteStreamed } from './buffer-reclaim.js';
import type { Digest } from './digest.js';
import { ManifestError } from './errors.js';

/** A blob as a descriptor names it: what its bytes must hash to, and how many there must be. */
export interface ExpectedBlob {
  digest: Digest;
  /** How many bytes there must be; when omitted (a blob read without a descriptor), any number. */
  size?: number | undefined;
}

/**
 * Returns a Transform that passes `blob`'s bytes through, failing with SIZE_MISMATCH as soon as more than
 * `blob.size` bytes arrive, and at the end with SIZE_MISMATCH or DIGEST_MISMATCH; `from` names the source in messages,
 * `sizeFrom` what gave the size.
 */
export function verifyingStream(blob: ExpectedBlob, from: string, sizeFrom = 'its descriptor'): Transform {
  const algorithm = blob.digest.slice(0, blob.digest.indexOf(':'));
  const hash = createHash(algorithm);
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (blob.size !== undefined && size > blob.size) {
        done(new ManifestError('SIZE_MISMATCH', `blob ${blob.digest} of ${from} is longer than the ${blob.size} bytes ${sizeFrom} says`));
        return;
      }
      hash.update(chunk);
      noteStreamed(chunk.length);
      done(null, chunk);
    },
    flush(done) {
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (blob.size !== undefined && size !== blob.size) done(new ManifestError('SIZE_MISMATCH', `blob ${blob.digest} of ${from} is ${size} bytes, but ${sizeFrom} says ${blob.size}`));
      else if (actual !== blob.digest) done(new ManifestError('DIGEST_MISMATCH', `blob ${blob.digest} of ${from} hashes to ${actual}`));
      else done();
    },
  });
}
