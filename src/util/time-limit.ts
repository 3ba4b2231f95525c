/**
 * Races work against a timer: the work gets a signal that aborts when the limit passes, and the
 * caller gets `timedOut()`'s error then, while the abandoned work finishes, or not, on its own.
 * For stores whose server may freeze: a query on a stopped database never answers.
 */
export function withTimeLimit<T>(limitMs: number, timedOut: () => Error, work: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (!(limitMs > 0 && limitMs < Number.POSITIVE_INFINITY)) return work(undefined);
  const controller = new AbortController();
  const running = work(controller.signal);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = timedOut();
      controller.abort(error);
      reject(error);
    }, limitMs);
    running.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
