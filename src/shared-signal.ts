/** One abort signal for the many concurrent requests of an operation. */
import { setMaxListeners } from 'node:events';

/**
 * Combines signals (undefined ones are skipped) into a new one that dozens of concurrent requests may listen on:
 * Node would otherwise warn of a listener leak, on the caller's own signal. Undefined when there is none to follow.
 */
export function sharedSignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const given = signals.filter((s): s is AbortSignal => s !== undefined);
  if (given.length === 0) return undefined;
  const signal = AbortSignal.any(given);
  setMaxListeners(0, signal);
  return signal;
}
