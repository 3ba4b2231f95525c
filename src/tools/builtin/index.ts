import type { Tool } from "../tool.ts";
import { calcTool } from "./calc.ts";
import { timeTool } from "./time.ts";

/** The tools skiff ships with, by name. */
export const builtinTools: Record<string, Tool> = {
  calc: calcTool,
  time: timeTool,
};
