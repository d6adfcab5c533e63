/**
 * Deterministic gzip for layers that an archive holds uncompressed: the same bytes in give the same bytes out, so
 * the same archive gives the same layer digests and a second push uploads nothing. zlib at a fixed level writes no
 * name and a zero mtime; the one byte it takes from the machine (the OS field of the header, RFC 1952 §2.3.1) is
 * set to 255, "unknown", so the output does not depend on where it was made. It does depend on the zlib that node
 * bundles: a different node may compress to other (equally valid) bytes, which is a new digest, never a wrong one.
 */
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';

/** Compression level of layers compressed here (zlib's default: the usual balance of size and speed). */
export const LAYER_GZIP_LEVEL = 6;

/** Offset of the OS byte in a gzip header. */
const OS_BYTE = 9;
const OS_UNKNOWN = 0xff;

/** Returns the transforms that compress a stream deterministically: pipe through both, in order. */
export function deterministicGzip(): [Transform, Transform] {
  let offset = 0;
  const fixHeader = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (offset <= OS_BYTE && offset + chunk.length > OS_BYTE) {
        const copy = Buffer.from(chunk);
        copy[OS_BYTE - offset] = OS_UNKNOWN;
        chunk = copy;
      }
      offset += chunk.length;
      done(null, chunk);
    },
  });
  return [createGzip({ level: LAYER_GZIP_LEVEL }), fixHeader];
}
