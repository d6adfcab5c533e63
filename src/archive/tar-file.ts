/**
 * A tar file on disk, indexed once so its members can be read in any order without reading what is before them.
 * tar-stream reads the headers (one pass over the file); each member's data offset then lets a range of the file
 * be streamed directly. A gzip-compressed tar (nix's `docker/linux.amd64.tar.gz`) is first decompressed into the
 * session's workspace, since gzip cannot be read from the middle.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { extract } from 'tar-stream';
import { ManifestError } from '../errors.js';
import { fileError } from './file-error.js';
import type { Workspace } from './workspace.js';

/** Most members an archive may have (a layer is two or three): bounds the index of a hostile file. */
const MAX_MEMBERS = 100_000;
/** Most symbolic or hard links followed from one name. */
const MAX_LINK_DEPTH = 16;

/** One regular file or link in the tar. */
interface Member {
  /** Offset of its data in the (uncompressed) tar file. */
  offset: number;
  size: number;
  /** Archive path a link points to, already resolved to an archive path. */
  link?: string;
}

/** Options of TarFile.open. */
export interface OpenTarOptions {
  /** Where a gzip-compressed tar is decompressed to. */
  workspace: Workspace;
  /** Stops the reading; when omitted, it runs to the end. */
  signal?: AbortSignal | undefined;
}

/** Tells whether the first bytes of a file or member are a gzip header. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Reads up to `length` bytes at the start of a file. */
export async function readHead(path: string, length: number, start = 0): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Normalises a member name: no "./" prefix, no leading "/", no trailing "/". */
function normalizeName(name: string): string {
  return posix.normalize(name.replace(/^\/+/, '')).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** An indexed tar file. */
export class TarFile {
  private constructor(
    /** The file as the user named it, for messages. */
    readonly name: string,
    /** The plain tar on disk (the file itself, or its decompressed copy). */
    private readonly plainPath: string,
    private readonly members: ReadonlyMap<string, Member>,
  ) {}

  /** Opens and indexes a tar (plain or gzip); throws NOT_FOUND or INVALID_INPUT naming the file. */
  static async open(path: string, options: OpenTarOptions): Promise<TarFile> {
    let plainPath = path;
    try {
      const info = await stat(path);
      if (info.isDirectory()) throw new ManifestError('INVALID_INPUT', `reading ${path}: it is a directory, not an archive`);
      if (isGzip(await readHead(path, 2))) {
        plainPath = await options.workspace.file('.tar');
        await pipeline(createReadStream(path), createGunzip(), createWriteStream(plainPath), { signal: options.signal });
      }
      return new TarFile(path, plainPath, await indexTar(plainPath, options.signal, path));
    } catch (err) {
      throw fileError(err, path);
    }
  }

  /** Returns the archive paths of every regular file and link, in archive order. */
  names(): string[] {
    return [...this.members.keys()];
  }

  /** Tells whether a member exists (after following links). */
  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /** Returns a member's size in bytes, or undefined when there is none. */
  size(name: string): number | undefined {
    return this.find(name)?.size;
  }

  /** Reads a small member whole; NOT_FOUND when missing, TOO_LARGE when over `maxBytes`. */
  async read(name: string, maxBytes: number): Promise<Buffer> {
    const member = this.require(name);
    if (member.size > maxBytes) throw new ManifestError('TOO_LARGE', `${name} in ${this.name} is ${member.size} bytes, more than the ${maxBytes} allowed`);
    if (member.size === 0) return Buffer.alloc(0);
    try {
      return await readHead(this.plainPath, member.size, member.offset);
    } catch (err) {
      throw fileError(err, this.name);
    }
  }

  /** Reads the first `length` bytes of a member (to tell its compression). */
  async head(name: string, length: number): Promise<Buffer> {
    const member = this.require(name);
    if (member.size === 0) return Buffer.alloc(0);
    return readHead(this.plainPath, Math.min(length, member.size), member.offset);
  }

  /** Streams a member's bytes straight from the file. */
  open(name: string): Readable | ReadStream {
    const member = this.require(name);
    if (member.size === 0) return Readable.from([]);
    return createReadStream(this.plainPath, { start: member.offset, end: member.offset + member.size - 1 });
  }

  private require(name: string): Member {
    const member = this.find(name);
    if (member === undefined) throw new ManifestError('NOT_FOUND', `${this.name} has no member ${name}`);
    return member;
  }

  private find(name: string): Member | undefined {
    let member = this.members.get(normalizeName(name));
    for (let depth = 0; member?.link !== undefined; depth += 1) {
      if (depth >= MAX_LINK_DEPTH) return undefined;
      member = this.members.get(member.link);
    }
    return member;
  }
}

/** Size of a tar header block: a member's data follows its header. */
const BLOCK = 512;

/** Reads every header of a plain tar (`shown` names it in messages): member names, data offsets and sizes (from tar-stream's header offsets). */
async function indexTar(path: string, signal: AbortSignal | undefined, shown: string = path): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  const parser = extract();
  parser.on('entry', (header, stream, next) => {
    stream.on('end', () => { next(); });
    // A tar cut inside a member's data fails that member's stream too: the parser's own error ends the pipeline.
    stream.on('error', () => undefined);
    stream.resume();
    if (members.size >= MAX_MEMBERS) {
      parser.destroy(new ManifestError('TOO_LARGE', `the archive has more than ${MAX_MEMBERS} members`));
      return;
    }
    const name = normalizeName(header.name);
    if (header.type === 'file' || header.type === 'contiguous-file') {
      // `offset` is where the member's own header starts (after any pax or long-name headers before it).
      members.set(name, { offset: stream.offset + BLOCK, size: header.size });
    } else if ((header.type === 'symlink' || header.type === 'link') && header.linkname !== '') {
      // A symbolic link is relative to its own directory; a hard link names an archive path.
      const target = header.type === 'symlink' && !header.linkname.startsWith('/') ? posix.join(posix.dirname(name), header.linkname) : header.linkname;
      members.set(name, { offset: 0, size: 0, link: normalizeName(target) });
    }
  });
  await pipeline(createReadStream(path), parser, { signal }).catch((err: unknown) => {
    // tar-stream's own words ("Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?") are
    // about its parser: say what the file was expected to be.
    if (err instanceof Error && !(err instanceof ManifestError) && /invalid tar header/i.test(err.message)) {
      throw new ManifestError('INVALID_INPUT', `${shown} is not a tar archive (what docker save or an OCI archive is): its headers are not tar headers`, { cause: err });
    }
    throw err;
  });
  // Links' sizes are their targets'.
  for (const [name, member] of members) {
    if (member.link === undefined) continue;
    let target = members.get(member.link);
    for (let depth = 0; target?.link !== undefined && depth < MAX_LINK_DEPTH; depth += 1) target = members.get(target.link);
    if (target !== undefined && target.link === undefined) members.set(name, { ...target, link: member.link });
  }
  return members;
}
