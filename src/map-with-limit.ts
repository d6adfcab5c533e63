/** Bounded concurrency: design.md §7 rule 9 wants an explicit limit wherever work runs in parallel. */

/**
 * Maps items through an async function with at most `limit` calls in flight; results keep the input order.
 * After a failure no new call starts; once every started call has settled (no promise is left floating), the
 * failure of the earliest item is thrown, so the error reported does not depend on timing.
 */
export async function mapWithLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  let firstErrorIndex = Infinity;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (err) {
        if (index < firstErrorIndex) {
          firstError = err;
          firstErrorIndex = index;
        }
        failed = true;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker());
  await Promise.all(workers);
  if (failed) throw firstError;
  return results;
}
