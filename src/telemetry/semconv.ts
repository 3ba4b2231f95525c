/**
 * Every OpenTelemetry attribute name and well-known value skiff emits, in one place. The GenAI
 * conventions are still "Development" and moved to the semantic-conventions-genai repository in
 * 2026, so a rename touches this file only. Our own constants, not
 * `@opentelemetry/semantic-conventions/incubating`, whose README advises against importing
 * unstable names at run time and whose newer versions mark them all deprecated.
 * Target: semantic-conventions-genai main (schema gen-ai-dev/1.42.0-dev), see shared/otel-genai.md.
 */

/** `gen_ai.operation.name`. */
export const ATTR_GEN_AI_OPERATION_NAME = "gen_ai.operation.name";
/** `gen_ai.provider.name` (replaced the deprecated `gen_ai.system` in v1.37). Chat spans only. */
export const ATTR_GEN_AI_PROVIDER_NAME = "gen_ai.provider.name";
export const ATTR_GEN_AI_REQUEST_MODEL = "gen_ai.request.model";
export const ATTR_GEN_AI_REQUEST_STREAM = "gen_ai.request.stream";
export const ATTR_GEN_AI_RESPONSE_ID = "gen_ai.response.id";
export const ATTR_GEN_AI_RESPONSE_MODEL = "gen_ai.response.model";
/** Raw provider values (`tool_calls`), one per choice; not the message schema's `tool_call`. */
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
/** Includes cached tokens. */
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
/** Includes reasoning tokens. */
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens";
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens";
/** A real session id only; never a random id, the trace id or a hash. */
export const ATTR_GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id";
export const ATTR_GEN_AI_AGENT_NAME = "gen_ai.agent.name";
export const ATTR_GEN_AI_TOOL_NAME = "gen_ai.tool.name";
export const ATTR_GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id";
export const ATTR_GEN_AI_TOOL_TYPE = "gen_ai.tool.type";
export const ATTR_GEN_AI_TOOL_DESCRIPTION = "gen_ai.tool.description";

// Opt-in content attributes: JSON strings, because span attributes in JS hold only primitives.
export const ATTR_GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages";
export const ATTR_GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages";
export const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions";
export const ATTR_GEN_AI_TOOL_DEFINITIONS = "gen_ai.tool.definitions";
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments";
export const ATTR_GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result";

/** Metrics only: `input` or `output`. */
export const ATTR_GEN_AI_TOKEN_TYPE = "gen_ai.token.type";

export const ATTR_SERVER_ADDRESS = "server.address";
export const ATTR_SERVER_PORT = "server.port";
/** Low-cardinality failure class: an HTTP status, an error code, a class name, or `_OTHER`. */
export const ATTR_ERROR_TYPE = "error.type";

/** Resource attributes. */
export const ATTR_SERVICE_NAME = "service.name";
export const ATTR_SERVICE_VERSION = "service.version";

/** Values of `gen_ai.operation.name`. */
export const GEN_AI_OPERATION_CHAT = "chat";
export const GEN_AI_OPERATION_INVOKE_AGENT = "invoke_agent";
export const GEN_AI_OPERATION_EXECUTE_TOOL = "execute_tool";

/** A run's cost (genai repo changelog 443, not yet released): the amount and its currency. */
export const ATTR_GEN_AI_USAGE_COST_AMOUNT = "gen_ai.usage.cost.amount";
export const ATTR_GEN_AI_USAGE_COST_CURRENCY = "gen_ai.usage.cost.currency";

/** skiff's own: the agent span's event when a run continues an earlier attempt (durable runs). */
export const EVENT_SKIFF_RUN_RESUMED = "skiff.run.resumed";
/** On that event: which attempt this is (2 for the first resumption). */
export const ATTR_SKIFF_RUN_ATTEMPT = "skiff.run.attempt";
/** On that event: the replica that resumed the run. */
export const ATTR_SKIFF_REPLICA = "skiff.replica";

/** The fallback `error.type` when nothing more specific is known. */
export const ERROR_TYPE_OTHER = "_OTHER";

/** Metric names (gen-ai-metrics.md). */
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = "gen_ai.client.operation.duration";
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = "gen_ai.client.token.usage";
export const METRIC_GEN_AI_INVOKE_AGENT_DURATION = "gen_ai.invoke_agent.duration";
export const METRIC_GEN_AI_EXECUTE_TOOL_DURATION = "gen_ai.execute_tool.duration";

/** Explicit bucket boundaries the conventions advise, per metric. */
export const BUCKETS_OPERATION_DURATION_S = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
] as const;
export const BUCKETS_TOKEN_USAGE = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
] as const;
export const BUCKETS_INVOKE_AGENT_DURATION_S = [
  0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
] as const;
