/**
 * A static registry's files in a directory tree: each write goes to a temporary file beside its final name and
 * is renamed into place, so a web server serving the tree never sends part of a file.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ManifestError } from '../errors.js';
import { makeDirectories } from '../make-directories.js';
import type { CallOptions } from '../registry/client.js';
import type { ReadObject, StaticBackend, StoredObject } from './static-backend.js';

/** Temporary files start with this: a dot, which no tag, digest or repository component starts with. */
const TEMP_PREFIX = '.tmp-';

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Files of a directory tree, by "/"-separated keys relative to its root. */
export class DirBackend implements StaticBackend {
  readonly description: string;
  private readonly root: string;

  /** `root` as the user gave it; relative paths are resolved against the working directory now. */
  constructor(root: string) {
    this.description = `dir:${root}`;
    this.root = resolve(root);
  }

  private path(key: string): string {
    const path = join(this.root, ...key.split('/'));
    if (path !== this.root && !path.startsWith(this.root + sep)) throw new ManifestError('INTERNAL', `key ${key} leaves ${this.description}`);
    return path;
  }

  private fail(what: string, key: string, err: unknown): ManifestError {
    if (err instanceof ManifestError) return err;
    const e = err as NodeJS.ErrnoException;
    if (e.name === 'AbortError') return new ManifestError('ABORTED', `${what} ${key} in ${this.description}: interrupted`, { cause: err });
    const code = e.code === 'EACCES' || e.code === 'EPERM' ? 'DENIED' : 'UNAVAILABLE';
    return new ManifestError(code, `${what} ${key} in ${this.description}: ${e.message}`, { cause: err });
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const info = await stat(this.path(key));
      return info.isFile() ? { key, size: info.size, modified: info.mtime } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw this.fail('reading', key, err);
    }
  }

  async read(key: string, maxBytes: number): Promise<ReadObject | undefined> {
    let handle;
    try {
      handle = await open(this.path(key), 'r');
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw this.fail('reading', key, err);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) return undefined;
      if (info.size > maxBytes) throw new ManifestError('TOO_LARGE', `${key} in ${this.description} is ${info.size} bytes, more than the ${maxBytes} allowed`);
      const bytes = new Uint8Array(await handle.readFile());
      if (bytes.length > maxBytes) throw new ManifestError('TOO_LARGE', `${key} in ${this.description} grew past the ${maxBytes} bytes allowed`);
      return { bytes };
    } catch (err) {
      throw this.fail('reading', key, err);
    } finally {
      await handle.close();
    }
  }

  async open(key: string): Promise<Readable | undefined> {
    const path = this.path(key);
    try {
      const handle = await open(path, 'r');
      return createReadStream('', { fd: handle.fd, autoClose: true });
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw this.fail('reading', key, err);
    }
  }

  async write(key: string, body: Uint8Array | Readable, _info: { contentType: string; size: number }, options: CallOptions = {}): Promise<void> {
    const path = this.path(key);
    const temp = join(dirname(path), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
    try {
      await makeDirectories(dirname(path));
      if (body instanceof Readable) {
        await pipeline(body, createWriteStream(temp, { flags: 'wx' }), options.signal === undefined ? {} : { signal: options.signal });
      } else {
        await writeFile(temp, body, { flag: 'wx', ...(options.signal === undefined ? {} : { signal: options.signal }) });
      }
      await rename(temp, path);
    } catch (err) {
      if (body instanceof Readable) body.destroy();
      await unlink(temp).catch(() => undefined);
      throw this.fail('writing', key, err);
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw this.fail('listing', keyPrefix, err);
      }
      for (const entry of entries) {
        if (entry.name.startsWith(TEMP_PREFIX)) continue;
        const key = `${keyPrefix}${entry.name}`;
        if (entry.isDirectory()) await walk(join(dir, entry.name), `${key}/`);
        else if (entry.isFile()) {
          const info = await stat(join(dir, entry.name)).catch(() => undefined);
          if (info !== undefined) out.push({ key, size: info.size, modified: info.mtime });
        }
      }
    };
    await walk(this.path(prefix.replace(/\/$/, '')), prefix);
    return out;
  }

  async remove(key: string): Promise<void> {
    try {
      await rm(this.path(key), { force: true });
    } catch (err) {
      throw this.fail('removing', key, err);
    }
  }
}
