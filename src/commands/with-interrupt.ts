import { CancelReason } from "../agent/index.ts";
import { ExitCode } from "../cli/exit-codes.ts";

/**
 * Runs work with one AbortSignal that Ctrl-C and SIGTERM abort. A second Ctrl-C exits at once,
 * for a tool that does not stop.
 */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    controller.abort(new CancelReason(signal === "SIGINT" ? "interrupted (Ctrl-C)" : `received ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
