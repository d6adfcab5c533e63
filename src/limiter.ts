/** A concurrency limit shared by work started from many places (the blob copies of every child of a push). */

/** Runs async work with at most a fixed number of calls in flight. */
export interface Limiter {
  /** Runs `fn` once fewer than the limit are running; resolves or rejects with its result. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** Creates a limiter allowing `limit` (at least 1) calls at once; waiting calls start in the order they came. */
export function createLimiter(limit: number): Limiter {
  const max = Math.max(1, Math.floor(limit));
  let active = 0;
  const waiting: (() => void)[] = [];
  // A finishing call hands its slot straight to the next waiter, so a newcomer cannot slip in between.
  const release = (): void => {
    const next = waiting.shift();
    if (next === undefined) active--;
    else next();
  };
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
      else active++;
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}
