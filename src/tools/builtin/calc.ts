import { z } from "zod";
import { defineTool } from "../define-tool.ts";
import { evaluateArithmetic, maxExpressionLength } from "./arithmetic.ts";

/** Exact arithmetic for the model, which is unreliable at multiplying in its head. */
export const calcTool = defineTool({
  name: "calc",
  idempotent: true,
  description:
    "Evaluate an arithmetic expression exactly. Supports + - * / % ^ (power), parentheses, decimals and 1e3 notation.",
  input: z.object({
    expression: z
      .string()
      .describe(`Arithmetic expression, e.g. "17*23" or "(2+3)^2 / 4"; at most ${maxExpressionLength} characters`),
  }),
  run: async ({ expression }) => ({ expression, result: evaluateArithmetic(expression) }),
});
