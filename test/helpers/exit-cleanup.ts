// Last-resort clean-up for helpers that start processes or create temp dirs: a test that fails (or forgets
// stop()) must not leave a registry listening or a storage dir behind once the test process exits.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let isHookInstalled = false;

/** Kills (by the ChildProcess we spawned) every tracked child still running, then removes tracked dirs. */
function cleanUpAtExit(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  liveChildren.clear();
  // 'exit' listeners must be synchronous, hence rmSync; force because a killed child may still hold files.
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  liveDirs.clear();
}

function installHook(): void {
  if (isHookInstalled) return;
  process.once('exit', cleanUpAtExit);
  isHookInstalled = true;
}

/** Tracks a spawned child until it exits, so the process 'exit' hook can kill it if it is still running. */
export function trackChild(child: ChildProcess): void {
  installHook();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** Tracks a temp dir so the process 'exit' hook removes it if nobody did. */
export function trackDir(dir: string): void {
  installHook();
  liveDirs.add(dir);
}

/** Stops tracking a dir that its owner has removed itself. */
export function untrackDir(dir: string): void {
  liveDirs.delete(dir);
}
