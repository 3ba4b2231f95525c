/**
 * How well the executable's bytecode layout fits what this process loaded. build.sh lays the
 * bytecode out by profiles of serve and ask (build/*.order, `bun build --bytecode-order`); a
 * function the profile's run used is "hot", one it did not use "cold", and one written since the
 * profile was recorded "unknown". A growing share of unknown functions means the profiles are due
 * to be recorded again (`bun build/record-order.ts`). serve logs it at debug level once listening.
 */
import { bytecodeOrderStats } from "bun:jsc";

export interface BytecodeLayout {
  readonly hot: number;
  readonly cold: number;
  readonly unknown: number;
}

/** Functions loaded so far by kind; undefined when the executable was built without a profile. */
export function bytecodeLayout(): BytecodeLayout | undefined {
  const stats = bytecodeOrderStats();
  return stats === null ? undefined : { hot: stats.hot, cold: stats.cold, unknown: stats.unknown };
}
