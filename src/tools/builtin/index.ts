import type { Tool } from "../tool.ts";
import { ConfigError, configIssue } from "../../errors.ts";
import type { Semaphore } from "../../util/semaphore.ts";
import { calcTool } from "./calc.ts";
import { FsRoot } from "./fs-root.ts";
import { createFsListTool } from "./fs-list.ts";
import { createFsReadTool } from "./fs-read.ts";
import { createFsWriteTool } from "./fs-write.ts";
import { createHttpFetchTool } from "./http-fetch.ts";
import { timeTool } from "./time.ts";

/** The built-ins that need no configuration, by name. */
export const builtinTools: Record<string, Tool> = {
  calc: calcTool,
  time: timeTool,
};

/** The `[tools]` settings the configurable built-ins read. */
export interface BuiltinToolOptions {
  readonly fsRoot: string | undefined;
  readonly fsWrite: boolean;
  readonly fsMaxBytes: number;
  readonly allowHosts: readonly string[];
  readonly fetchMaxResponse: number;
  /** http_fetch's own deadline (tool_timeout). */
  readonly timeoutMs: number;
  /** The budget of tool HTTP requests in flight, shared with the declared tools. */
  readonly outbound: Semaphore;
  readonly userAgent?: string;
}

/**
 * Every built-in, by name, as a factory: a built-in is only built when enabled, so fs_root is
 * required only by the fs_* tools, and only when they are on.
 */
export function builtinToolFactories(options: BuiltinToolOptions): Record<string, () => Tool> {
  let root: FsRoot | undefined;
  const fsRoot = (tool: string) => (root ??= FsRoot.open(options.fsRoot, tool));
  return {
    calc: () => calcTool,
    time: () => timeTool,
    http_fetch: () =>
      createHttpFetchTool({
        allowHosts: options.allowHosts,
        maxResponseBytes: options.fetchMaxResponse,
        timeoutMs: options.timeoutMs,
        outbound: options.outbound,
        ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
      }),
    fs_read: () => createFsReadTool({ root: fsRoot("fs_read"), maxBytes: options.fsMaxBytes }),
    fs_list: () => createFsListTool({ root: fsRoot("fs_list") }),
    fs_write: () => {
      if (!options.fsWrite) {
        throw new ConfigError([
          configIssue("tools.fs_write", "fs_write is enabled but writing is off; set tools.fs_write = true to let the model write under fs_root", { code: "conflict" }),
        ]);
      }
      return createFsWriteTool({ root: fsRoot("fs_write"), maxBytes: options.fsMaxBytes });
    },
  };
}
