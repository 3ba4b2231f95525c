import { z } from "zod";
import { defineTool } from "../../src/tools/define-tool.ts";
import type { Tool } from "../../src/tools/tool.ts";

/** A `hang` tool that never finishes, and a latch that opens once it has begun: cancel a run with a tool in flight. */
export function hangingTool(): { readonly tool: Tool; readonly started: Promise<void> } {
  const started = Promise.withResolvers<void>();
  const tool = defineTool({
    name: "hang",
    description: "Never finishes",
    input: z.object({}),
    run: () => {
      started.resolve();
      return new Promise(() => {});
    },
  });
  return { tool, started: started.promise };
}
