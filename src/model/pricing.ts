import type { Usage } from "./messages.ts";

/** USD per million tokens for one model. */
export interface ModelPrice {
  readonly input: number;
  readonly output: number;
  /** Cached input tokens; default: the input price. */
  readonly cached_input?: number;
}

/**
 * Prices a model call from the `[pricing."model"]` table (USD per million tokens). A model that
 * answers under a dated name (`gpt-4.1-mini-2025-04-14`) is priced by the longest table key it
 * starts with. Cached input tokens are a subset of input tokens, billed at `cached_input`.
 */
export function priceFor(
  table: Readonly<Record<string, ModelPrice>>,
): ((model: string, usage: Usage) => number | undefined) | undefined {
  const names = Object.keys(table).sort((a, b) => b.length - a.length);
  if (names.length === 0) return undefined;
  return (model, usage) => {
    const name = names.find((candidate) => model === candidate || model.startsWith(`${candidate}-`));
    const price = name === undefined ? undefined : table[name];
    if (!price) return undefined;
    const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
    const fresh = usage.inputTokens - cached;
    return (fresh * price.input + cached * (price.cached_input ?? price.input) + usage.outputTokens * price.output) / 1_000_000;
  };
}
