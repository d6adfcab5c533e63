/**
 * A failed write in words. Its own module: main and the push commands name write failures at every start, and
 * digest-file.ts (which loads node:fs/promises) is needed only when --digest-file is given.
 */

const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such file or directory',
  EIO: 'input/output error',
  ENXIO: 'no reader on the other end',
};

/** Returns a failed write's reason in words, with its code: "no space left on device (ENOSPC)". */
export function describeWriteError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === undefined ? undefined : REASONS[code];
  if (reason !== undefined) return `${reason} (${code})`;
  return err instanceof Error ? err.message : String(err);
}
