/**
 * Saves a blob to a file, streamed and verified while it streams: the bytes go to a temporary file beside the
 * destination, which is renamed onto it only once the digest (and announced size) check out. On any failure,
 * interrupts included, the temporary file is removed and the destination is left as it was.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../digest.js';
import { isManifestError, ManifestError, withContext } from '../errors.js';
import type { Reference } from '../ref.js';
import { withClient, type RegistryClient } from '../registry/client.js';

/** Options of saveBlob. */
export interface SaveBlobOptions {
  /** Client to use; when omitted, an anonymous https client, closed afterwards. */
  client?: RegistryClient;
  /** Aborts the download (the temporary file is removed); when omitted, it runs to completion. */
  signal?: AbortSignal;
}

/** What saveBlob wrote. */
export interface SavedBlob {
  digest: Digest;
  size: number;
  /** The file, as given. */
  path: string;
}

/** Counts bytes passing through, for the result. */
async function* counted(source: AsyncIterable<Buffer>, total: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    total.bytes += chunk.length;
    yield chunk;
  }
}

/**
 * Downloads blob `digest` of `repo` into `path`. Throws DIGEST_MISMATCH or SIZE_MISMATCH when the registry sends
 * other bytes, NOT_FOUND when it has no such blob, INVALID_INPUT when the file cannot be written; in every case
 * no file is left at `path` that was not there before, and an existing one is untouched.
 */
export async function saveBlob(repo: Reference, digest: Digest, path: string, options: SaveBlobOptions = {}): Promise<SavedBlob> {
  return withClient(options.client, {}, async (client) => {
    const blob = await client.getBlobStream(repo, digest, { signal: options.signal })
      .catch((err: unknown) => { throw withContext(`fetching blob ${digest} from ${repo.name}`, err); });
    // A name of its own in the same directory: rename() is atomic there, and a crash leaves an obvious leftover.
    const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.part`);
    const total = { bytes: 0 };
    try {
      await pipeline(
        blob.stream,
        (source: AsyncIterable<Buffer>) => counted(source, total),
        createWriteStream(temporary, { flags: 'wx' }),
        options.signal === undefined ? {} : { signal: options.signal },
      );
      await rename(temporary, path);
    } catch (err) {
      blob.stream.destroy();
      await rm(temporary, { force: true });
      throw describeFailure(err, digest, repo, path, temporary);
    }
    return { digest, size: total.bytes, path };
  });
}

function describeFailure(err: unknown, digest: Digest, repo: Reference, path: string, temporary: string): ManifestError {
  if (isManifestError(err)) return withContext(`fetching blob ${digest} from ${repo.name}`, err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return withContext(`fetching blob ${digest} from ${repo.name}`, err);
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    const file = (err as NodeJS.ErrnoException).path === temporary ? `in ${dirname(path)}` : path;
    return new ManifestError('INVALID_INPUT', `writing blob ${digest} to ${path}: cannot write ${file} (${code})`, { cause: err });
  }
  return withContext(`fetching blob ${digest} from ${repo.name}`, err);
}
