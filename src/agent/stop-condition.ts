/**
 * Budgets as predicates over the steps so far (the step just answered included), in the manner of
 * stop conditions: the loop asks each one before it runs a step's tools.
 */
import type { Usage } from "../model/messages.ts";
import type { PriceFunction } from "./run-agent.ts";

/** What a budget looks at: each model call's model and usage. */
export interface StepUsage {
  readonly model: string;
  readonly usage: Usage;
}

/** Which budget the steps so far crossed, or undefined while within all of them. */
export type BudgetCondition = (steps: readonly StepUsage[]) => "tokens" | "cost" | undefined;

/** Crossed when input + output tokens over all steps exceed `maxTokens`. */
export function tokenBudget(maxTokens: number): BudgetCondition {
  return (steps) => {
    let used = 0;
    for (const step of steps) used += step.usage.inputTokens + step.usage.outputTokens;
    return used > maxTokens ? "tokens" : undefined;
  };
}

/** Crossed when the priced cost of all steps exceeds `maxCostUsd`; unpriced models never cross it. */
export function costBudget(maxCostUsd: number, price: PriceFunction): BudgetCondition {
  return (steps) => {
    const spent = totalCost(steps, price);
    return spent !== undefined && spent > maxCostUsd ? "cost" : undefined;
  };
}

/** USD over all steps, or undefined when a model that answered has no price. */
export function totalCost(steps: readonly StepUsage[], price: PriceFunction | undefined): number | undefined {
  if (!price) return undefined;
  let sum = 0;
  for (const step of steps) {
    const cost = price(step.model, step.usage);
    if (cost === undefined) return undefined;
    sum += cost;
  }
  return sum;
}
