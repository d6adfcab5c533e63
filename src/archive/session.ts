/**
 * Opens local sources (docker archives, OCI layouts and OCI archives) for a push: each file once, however many
 * entries name it, with one workspace for their temporary files and one limit on the layers compressed at once.
 * close() removes every temporary file; withArchives() closes a session it made on every exit path.
 */
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { ManifestError } from '../errors.js';
import { createLimiter, type Limiter } from '../limiter.js';
import type { CallOptions } from '../registry/client.js';
import type { ImageReader } from '../store/image-store.js';
import { DockerArchiveReader } from './docker-archive.js';
import { fileError } from './file-error.js';
import { DirectoryFiles, OciLayoutReader, TarFiles } from './oci-layout.js';
import type { ArchiveSource } from './source.js';
import { TarFile } from './tar-file.js';
import { Workspace } from './workspace.js';

/**
 * Most layers compressed or hashed at once: zlib runs on libuv's 4 worker threads, so more would only add
 * buffers (memory), not speed.
 */
export const MAX_ARCHIVE_CONCURRENCY = 4;

/** Options of an ArchiveSession. */
export interface ArchiveSessionOptions {
  /** Directory for temporary files; when omitted, os.tmpdir(). */
  tempDir?: string;
  /** Most layers compressed or hashed at once, at most MAX_ARCHIVE_CONCURRENCY; when omitted, that. */
  concurrency?: number;
}

/** Local sources opened for one push or a batch, and their temporary files. */
export class ArchiveSession {
  readonly workspace: Workspace;
  private readonly limiter: Limiter;
  private readonly readers = new Map<string, Promise<ImageReader>>();

  constructor(options: ArchiveSessionOptions = {}) {
    this.workspace = new Workspace(options.tempDir ?? tmpdir());
    this.limiter = createLimiter(Math.min(options.concurrency ?? MAX_ARCHIVE_CONCURRENCY, MAX_ARCHIVE_CONCURRENCY));
  }

  /** Returns the reader of a source's file or directory, opening it on first use. */
  open(source: ArchiveSource, options: CallOptions = {}): Promise<ImageReader> {
    let reader = this.readers.get(source.location);
    if (reader === undefined) {
      reader = this.openReader(source, options.signal);
      // A failed open is reported by each entry that awaits it; none is left unhandled.
      reader.catch(() => undefined);
      this.readers.set(source.location, reader);
    }
    return reader;
  }

  /** Removes the session's temporary files. */
  async close(): Promise<void> {
    await this.workspace.dispose();
  }

  private async openReader(source: ArchiveSource, signal: AbortSignal | undefined): Promise<ImageReader> {
    const path = source.absolutePath;
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (err) {
      throw fileError(err, source.path);
    }
    if (source.kind === 'oci' || (source.kind === 'archive' && isDirectory)) {
      if (!isDirectory) throw new ManifestError('INVALID_INPUT', `${source.path} is a file; oci: names a layout directory (use oci-archive: for a tar)`);
      return OciLayoutReader.open(new DirectoryFiles(source.path, path), source.location);
    }
    const tar = await TarFile.open(path, { workspace: this.workspace, signal });
    if (source.kind === 'oci-archive') return OciLayoutReader.open(new TarFiles(tar), source.location);
    if (source.kind === 'docker-archive' || tar.has('manifest.json')) {
      // docker 25 and newer save an OCI layout and a manifest.json side by side: the docker view is taken, so
      // uncompressed layers are compressed for the registry.
      return DockerArchiveReader.open(source, tar, { workspace: this.workspace, limiter: this.limiter });
    }
    if (tar.has('oci-layout') && tar.has('index.json')) return OciLayoutReader.open(new TarFiles(tar), source.location);
    throw new ManifestError('INVALID_INPUT', `${source.path} is neither a docker archive (no manifest.json) nor an OCI archive (no oci-layout and index.json)`);
  }
}

/** Runs `use` with `session`, or, when none is given, with a new session closed (its files removed) afterwards. */
export async function withArchives<T>(session: ArchiveSession | undefined, options: ArchiveSessionOptions, use: (session: ArchiveSession) => Promise<T>): Promise<T> {
  if (session !== undefined) return use(session);
  const own = new ArchiveSession(options);
  try {
    return await use(own);
  } finally {
    await own.close();
  }
}
