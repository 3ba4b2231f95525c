import { buildInfo } from "../build-info.ts";
import type { Terminal } from "./io.ts";

/** `skiff version`. */
export function printVersion(json: boolean, terminal: Pick<Terminal, "out">): void {
  if (json) {
    terminal.out(
      `${JSON.stringify({ version: buildInfo.version, commit: buildInfo.commit, build_date: buildInfo.buildDate, bun: buildInfo.bunVersion, target: buildInfo.target })}\n`,
    );
    return;
  }
  terminal.out(
    `skiff ${buildInfo.version} (commit ${buildInfo.commit}, built ${buildInfo.buildDate}, bun ${buildInfo.bunVersion}, ${buildInfo.target})\n`,
  );
}
