/**
 * --digest-file: opened before anything is pushed (a push must not be the first to learn that its report cannot be
 * written), as a temporary file beside the target that is renamed over it once the digest is in. A reader never
 * sees a half-written file, and a failed push leaves the old digest in place.
 */
import { constants } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ManifestError } from '../errors.js';
import { describeWriteError } from './write-error.js';

/** A digest file ready to be written. */
export interface DigestFile {
  /** The path as the user gave it. */
  readonly path: string;
  /** Writes `digest` and a newline, and puts the file in place; rejects with the system's error. */
  commit(digest: string): Promise<void>;
  /** Gives up: removes the temporary file (an existing digest file is left as it was). Never rejects. */
  discard(): Promise<void>;
}

function refuse(path: string, why: string, cause?: unknown): ManifestError {
  return new ManifestError('USAGE', `--digest-file ${path}: ${why}; nothing was pushed`, cause === undefined ? {} : { cause });
}

/**
 * Opens `path` for the digest, checking now what would otherwise fail after the push: a directory, a read-only
 * file (refused even for root, who could write it), a directory that cannot take a new file. A device or FIFO
 * (/dev/stdout) is opened directly and written in place.
 */
export async function openDigestFile(path: string): Promise<DigestFile> {
  const full = resolve(path);
  const existing = await stat(full).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw refuse(path, describeWriteError(err), err);
  });
  if (existing?.isDirectory() === true) throw refuse(path, 'it is a directory');
  if (existing !== undefined && !existing.isFile()) {
    // O_NONBLOCK: a FIFO with no reader fails at once (ENXIO) instead of blocking the command forever.
    let handle: FileHandle;
    try {
      handle = await open(full, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      throw refuse(path, describeWriteError(err), err);
    }
    return {
      path,
      commit: async (digest) => {
        try {
          await handle.writeFile(`${digest}\n`);
        } finally {
          await handle.close().catch(() => undefined);
        }
      },
      discard: () => handle.close().catch(() => undefined),
    };
  }
  if (existing !== undefined && (existing.mode & 0o222) === 0) throw refuse(path, 'the file is read-only');
  const temporary = join(dirname(full), `.${basename(full)}.${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.tmp`);
  let handle: FileHandle;
  try {
    handle = await open(temporary, 'wx', existing === undefined ? 0o666 : existing.mode & 0o7777);
  } catch (err) {
    throw refuse(path, `cannot create a file in ${dirname(full)}: ${describeWriteError(err)}`, err);
  }
  let open_ = true;
  const close = async (): Promise<void> => {
    if (!open_) return;
    open_ = false;
    await handle.close();
  };
  return {
    path,
    commit: async (digest) => {
      try {
        await handle.writeFile(`${digest}\n`);
        await handle.sync();
        await close();
        await rename(temporary, full);
      } catch (err) {
        await close().catch(() => undefined);
        await unlink(temporary).catch(() => undefined);
        throw err;
      }
    },
    discard: async () => {
      await close().catch(() => undefined);
      await unlink(temporary).catch(() => undefined);
    },
  };
}
