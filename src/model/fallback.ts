import { ModelError, SystemError } from "../errors.ts";
import { type CircuitBreaker, type CircuitState, createBreaker } from "./breaker.ts";
import type { Model, ModelRequest, ModelResponse } from "./model.ts";

/** One provider of a chain, with a label for logs and metrics (e.g. `ollama llama3.1`). */
export interface ChainedModel {
  readonly label: string;
  readonly model: Model;
}

/** What /metrics and logs see of each provider. */
export interface ProviderStatus {
  readonly label: string;
  readonly state: CircuitState;
  readonly consecutiveFailures: number;
}

/** A Model that tries providers in order, each behind a circuit breaker. */
export interface FallbackModel extends Model {
  status(): ProviderStatus[];
}

export interface FallbackOptions {
  readonly failures: number;
  readonly cooldownMs: number;
  readonly now?: () => number;
  readonly onBreakerChange?: (label: string, state: CircuitState, consecutiveFailures: number) => void;
}

/**
 * Tries the primary, then each `[[fallback]]` in order, when a provider fails (after its own
 * retries) with a connection error, a timeout, a 429 or a 5xx. Other 4xx errors (a bad request,
 * a bad key) are final: another provider would not fix them. A provider that failed `failures`
 * times in a row is skipped for `cooldownMs`, then probed by one request.
 */
export function createFallbackModel(chain: readonly ChainedModel[], options: FallbackOptions): FallbackModel {
  if (chain.length === 0) throw new SystemError("a fallback chain needs at least one model");
  const breakers: CircuitBreaker[] = chain.map((entry) =>
    createBreaker({
      failures: options.failures,
      cooldownMs: options.cooldownMs,
      ...(options.now ? { now: options.now } : {}),
      ...(options.onBreakerChange
        ? { onChange: (state: CircuitState, n: number) => options.onBreakerChange?.(entry.label, state, n) }
        : {}),
    }),
  );
  const primary = chain[0]!.model;
  return {
    name: primary.name,
    provider: primary.provider,
    // It waits on nothing but its providers.
    settlesOnAbort: chain.every((entry) => entry.model.settlesOnAbort === true),
    status: () => chain.map((entry, i) => ({ label: entry.label, state: breakers[i]!.state, consecutiveFailures: breakers[i]!.consecutiveFailures })),
    async complete(request: ModelRequest): Promise<ModelResponse> {
      const failures: string[] = [];
      let lastError: unknown;
      for (let i = 0; i < chain.length; i++) {
        const entry = chain[i]!;
        const breaker = breakers[i]!;
        if (!breaker.tryAcquire()) {
          failures.push(`${entry.label}: skipped (circuit open after ${breaker.consecutiveFailures} failures)`);
          continue;
        }
        try {
          const response = await entry.model.complete(request);
          breaker.success();
          return response;
        } catch (error) {
          if (request.signal.aborted) {
            breaker.release();
            throw error;
          }
          if (!shouldFallBack(error)) {
            // Final for this request, and no sign the provider is down: the circuit stays as it was.
            breaker.release();
            throw error;
          }
          breaker.failure();
          lastError = error;
          failures.push(`${entry.label}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (chain.length === 1 && lastError !== undefined) throw lastError;
      throw new ModelError(`every provider failed or is cooling down. ${failures.join(" | ")}`, {
        retryable: true,
        code: "model_all_providers_failed",
        cause: lastError,
      });
    },
  };
}

/** Connection errors, timeouts, 429 and 5xx move on to the next provider; other 4xx do not. */
export function shouldFallBack(error: unknown): boolean {
  if (!(error instanceof ModelError)) return false;
  if (error.status !== undefined) return error.status === 429 || error.status >= 500;
  // No status: connection, timeout, unreadable reply are retryable; a stream cut after text was
  // shown is not, and must not be answered again by another provider.
  return error.retryable;
}
