/**
 * Creating a directory with its missing parents, one level at a time. Not mkdir's own `recursive`: on file
 * systems that refuse directories with ENOENT (/proc, /sys), Node's recursive mkdir retries forever, deaf to
 * --timeout and signals.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Creates `dir` and its missing parents (new ones with `mode`, before the umask); an existing one is left as is. */
export async function makeDirectories(dir: string, mode?: number): Promise<void> {
  const make = (path: string): Promise<unknown> => (mode === undefined ? mkdir(path) : mkdir(path, { mode }));
  try {
    await make(dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
  }
  await makeDirectories(dirname(dir), mode);
  // The parents exist now: a second ENOENT is the file system refusing the directory, and is thrown.
  await make(dir).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  });
}
