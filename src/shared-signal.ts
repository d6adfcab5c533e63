/** One abort signal for the many concurrent requests of an operation. */
import { setMaxListeners } from 'node:events';
import { DeadlineError } from './errors.js';

const SOURCES = Symbol('sources');

/**
 * Combines signals (undefined ones are skipped) into a new one that dozens of concurrent requests may listen on:
 * Node would otherwise warn of a listener leak, on the caller's own signal. Undefined when there is none to follow.
 */
export function sharedSignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  if (given.length === 0) return undefined;
  const signal = AbortSignal.any(given);
  setMaxListeners(0, signal);
  // AbortSignal.any holds its sources weakly: Node 20 collects an AbortSignal.timeout() nobody else holds, and its
  // deadline then never fires. The combined signal keeps them alive for as long as it is itself in use.
  Object.defineProperty(signal, SOURCES, { value: given });
  return signal;
}

/** A signal that follows another after a delay, and the way to stop following it. */
export interface GraceSignal {
  signal: AbortSignal;
  /** Stops following the other signal (the work it guarded is over); the grace timer, if running, is cleared. */
  dispose(): void;
}

/**
 * Returns a signal that aborts `ms` after `signal` does, with the same reason: work that must not stop half-way
 * (a push's tags) outlives an interrupt or a deadline by a short, bounded grace period instead of not at all.
 */
export function graceSignal(signal: AbortSignal | undefined, ms: number): GraceSignal {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  if (signal === undefined) return { signal: controller.signal, dispose: () => undefined };
  let timer: NodeJS.Timeout | undefined;
  const start = (): void => {
    timer = setTimeout(() => controller.abort(signal.reason), ms);
  };
  if (signal.aborted) start();
  else signal.addEventListener('abort', start, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      signal.removeEventListener('abort', start);
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

/**
 * Returns a signal that aborts after `ms` with a DeadlineError naming `what` ("the --timeout of 5s"), so the
 * failures it causes say which deadline passed. Its timer does not keep the process alive by itself.
 */
export function deadlineSignal(ms: number, what: string): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new DeadlineError(what)), ms).unref();
  return controller.signal;
}
