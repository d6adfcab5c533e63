/**
 * Writes an OCI layout directory as an OCI archive (a tar of the layout, as `skopeo copy … oci-archive:` reads):
 * members in a fixed order with fixed times and modes, file content streamed, the tar written under a temporary
 * name beside FILE and renamed into place once complete.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { ManifestError } from '../errors.js';
import { fileError } from './file-error.js';

/** Lists the files under `dir`, as paths relative to it, sorted. */
async function listFiles(dir: string, root: string = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await listFiles(path, root));
    else if (entry.isFile()) out.push(relative(root, path));
  }
  return out;
}

/** Packs the layout in `dir` into the tar `file`. */
export async function packLayout(dir: string, file: string, signal?: AbortSignal): Promise<void> {
  const partial = `${file}.partial-${randomBytes(6).toString('hex')}`;
  // Created first: a directory that does not exist or cannot be written is said as such, before any packing.
  const handle = await open(partial, 'wx').catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ManifestError('INVALID_INPUT', `writing ${file}: its directory ${dirname(file)} does not exist`, { cause: err });
    throw fileError(err, file, 'writing');
  });
  const tar = pack();
  const written = pipeline(tar, handle.createWriteStream(), ...(signal === undefined ? [] : [{ signal }]));
  // Awaited below on every path; marked handled so that a file that cannot be created is not an unhandled rejection.
  written.catch(() => undefined);
  try {
    const files = await listFiles(dir);
    // oci-layout and index.json first, so a reader streaming the tar learns what it is before the blobs.
    const order = [...files.filter((f) => f === 'oci-layout'), ...files.filter((f) => f === 'index.json'), ...files.filter((f) => f !== 'oci-layout' && f !== 'index.json')];
    for (const name of order) {
      const path = join(dir, name);
      const { size } = await stat(path);
      const entry = tar.entry({ name, size, mode: 0o644, mtime: new Date(0), type: 'file' });
      await pipeline(createReadStream(path), entry, ...(signal === undefined ? [] : [{ signal }]));
    }
    tar.finalize();
    await written;
    await rename(partial, file);
  } catch (err) {
    tar.destroy();
    await written.catch(() => undefined);
    await rm(partial, { force: true });
    throw fileError(err, file, 'writing');
  }
}
