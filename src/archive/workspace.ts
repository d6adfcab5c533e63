/**
 * Temporary files of archive sources (a gunzipped outer archive, gzip-compressed layers), in one directory per
 * session, created only when first needed and removed by dispose(). Every live directory is also known to
 * removeWorkspacesSync(), which the CLI calls on exit so a second Ctrl-C (an immediate exit) leaves nothing behind.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

const live = new Set<string>();

/** Removes every temporary directory still in use, synchronously (for a process 'exit' handler). */
export function removeWorkspacesSync(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

/** A temporary directory made on first use, and the unique files in it. */
export class Workspace {
  private dir: Promise<string> | undefined;
  private count = 0;
  private disposed = false;

  /** `parent` is the directory to create it in (os.tmpdir() for the CLI). */
  constructor(private readonly parent: string) {}

  /** Returns the path of a new file in the workspace (not created); `suffix` ends its name. */
  async file(suffix: string): Promise<string> {
    if (this.disposed) throw new Error('workspace used after dispose');
    this.dir ??= mkdtemp(join(this.parent, 'manifest-archive-')).then((dir) => {
      live.add(dir);
      return dir;
    });
    this.count += 1;
    const name = `${this.count}${suffix}`;
    return join(await this.dir, name);
  }

  /** Removes the directory and everything in it; later calls do nothing. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const made = this.dir;
    this.dir = undefined;
    if (made === undefined) return;
    const dir = await made.catch(() => undefined);
    if (dir === undefined) return;
    await rm(dir, { recursive: true, force: true });
    live.delete(dir);
  }
}
