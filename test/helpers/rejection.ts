/**
 * What `promise` rejected with, which must be a `type`: a promise that resolves, or rejects with
 * anything else, fails the test with a message naming what came instead.
 *
 * @example
 * const error = await rejectionOf(model.complete(request), ModelError);
 */
export async function rejectionOf<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof type)) throw new Error(`expected a ${type.name}, got ${String(error)}`);
  return error;
}
