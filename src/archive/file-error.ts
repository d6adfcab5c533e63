/** Errors of local files (archives, layouts) as ManifestErrors with the codes of design.md §3. */
import { ManifestError } from '../errors.js';

/**
 * Returns `err` as a ManifestError about `path`: a missing file is NOT_FOUND (exit 4), an interrupt ABORTED, any
 * other failure to read it (no permission, a broken tar, a corrupt gzip stream) INVALID_INPUT (exit 2).
 */
export function fileError(err: unknown, path: string, doing = 'reading'): ManifestError {
  if (err instanceof ManifestError) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const code = (error as NodeJS.ErrnoException).code;
  if (error.name === 'AbortError' || code === 'ABORT_ERR') return new ManifestError('ABORTED', `${doing} ${path}: interrupted`, { cause: err });
  if (code === 'ENOENT') return new ManifestError('NOT_FOUND', `${doing} ${path}: no such file or directory`, { cause: err });
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EISDIR' ? 'it is a directory'
      : code === 'ENOTDIR' ? 'a part of the path is not a directory'
        : code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' ? `corrupt gzip data (${error.message})`
          : error.message;
  return new ManifestError('INVALID_INPUT', `${doing} ${path}: ${reason}`, { cause: err });
}
