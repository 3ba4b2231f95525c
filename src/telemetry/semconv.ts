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
/** `json` when the request sets an output format (structured output); unset otherwise. */
export const ATTR_GEN_AI_OUTPUT_TYPE = "gen_ai.output.type";
export const ATTR_GEN_AI_RESPONSE_ID = "gen_ai.response.id";
export const ATTR_GEN_AI_RESPONSE_MODEL = "gen_ai.response.model";
/** Raw provider values (`tool_calls`), one per choice; not the message schema's `tool_call`. */
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
/** Seconds from the request to the first chunk of a streamed answer. */
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk";
/** The finish reason of a generation that started and then failed. */
export const FINISH_REASON_ERROR = "error";
/** Includes cached tokens. */
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
/** Includes reasoning tokens. */
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens";
/** Input tokens written to the provider's prompt cache (genai repo: renamed from `cache_creation`). */
export const ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens";
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

/**
 * A run's cost in USD, under the name Langfuse reads into an observation's cost. (The genai repo's
 * draft `gen_ai.usage.cost.amount`/`.currency` is not merged, and Langfuse files any other
 * `gen_ai.usage.*` number as a token count.)
 */
export const ATTR_GEN_AI_USAGE_COST = "gen_ai.usage.cost";

/** HTTP server spans (stable HTTP conventions). */
export const ATTR_HTTP_REQUEST_METHOD = "http.request.method";
export const ATTR_HTTP_ROUTE = "http.route";
export const ATTR_HTTP_RESPONSE_STATUS_CODE = "http.response.status_code";
export const ATTR_URL_PATH = "url.path";
export const ATTR_URL_SCHEME = "url.scheme";
export const ATTR_USER_AGENT_ORIGINAL = "user_agent.original";
/** A session a span belongs to (general conventions); Langfuse and Phoenix group traces by it. */
export const ATTR_SESSION_ID = "session.id";

/**
 * OpenInference attributes (Arize Phoenix's own conventions), sent with `[otel] openinference`:
 * Phoenix fills its span input/output columns, trace list and sessions from these.
 */
export const ATTR_INPUT_VALUE = "input.value";
export const ATTR_INPUT_MIME_TYPE = "input.mime_type";
export const ATTR_OUTPUT_VALUE = "output.value";
export const ATTR_OUTPUT_MIME_TYPE = "output.mime_type";
export const ATTR_OPENINFERENCE_SPAN_KIND = "openinference.span.kind";
export const MIME_TEXT = "text/plain";
export const MIME_JSON = "application/json";

/** skiff's own: which attributes of the span were cut to fit `[otel] max_attribute_bytes`. */
export const ATTR_SKIFF_TRUNCATED_ATTRIBUTES = "skiff.truncated_attributes";

/** Resource attributes naming the SDK the spans went through, and skiff as its distribution. */
export const ATTR_TELEMETRY_SDK_NAME = "telemetry.sdk.name";
export const ATTR_TELEMETRY_SDK_LANGUAGE = "telemetry.sdk.language";
export const ATTR_TELEMETRY_SDK_VERSION = "telemetry.sdk.version";
export const ATTR_TELEMETRY_DISTRO_NAME = "telemetry.distro.name";
export const ATTR_TELEMETRY_DISTRO_VERSION = "telemetry.distro.version";

/**
 * The schema of the resource and the spans: semantic conventions 1.41, the last release of the
 * main repository that holds the GenAI conventions (Phoenix's GenAI converter is built on it too).
 * `gen_ai.usage.cache_write.input_tokens` comes from the genai repository after it.
 */
export const SCHEMA_URL = "https://opentelemetry.io/schemas/1.41.0";

/** skiff's own: the agent span's event when a run continues an earlier attempt (durable runs). */
export const EVENT_SKIFF_RUN_RESUMED = "skiff.run.resumed";
/** Event on the agent span: a person decided on a tool call that needed approval. */
export const EVENT_SKIFF_APPROVAL_DECIDED = "skiff.approval.decided";
export const ATTR_SKIFF_APPROVAL_APPROVED = "skiff.approval.approved";
export const ATTR_SKIFF_APPROVAL_BY = "skiff.approval.by";
export const ATTR_SKIFF_APPROVAL_WAIT_MS = "skiff.approval.wait_ms";
/** On that event: which attempt this is (2 for the first resumption). */
export const ATTR_SKIFF_RUN_ATTEMPT = "skiff.run.attempt";
/** On that event: the replica that resumed the run. */
export const ATTR_SKIFF_REPLICA = "skiff.replica";
/** The name of the API key a served run was started with (never the key itself). */
export const ATTR_SKIFF_KEY_NAME = "skiff.key.name";

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
