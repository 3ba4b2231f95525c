import { z } from "zod";
import type { FinishReason, RunResult } from "../../agent/index.ts";
import type { AppContext, RequestInfo } from "../context.ts";
import { clientGone, prepareRun } from "../execute-run.ts";
import { badRequest, HttpError } from "../http-error.ts";
import { issueError } from "../issues.ts";
import { readJsonBody } from "../read-body.ts";
import { clientClosedStatus } from "../run-errors.ts";
import { openSse } from "../sse.ts";
import { traceparentOf } from "../trace-context.ts";
import { fromWireMessages, wireMessagesSchema } from "../wire-messages.ts";

/** The one model name this endpoint serves: the agent. */
export const agentModelName = "skiff";

/** OpenAI's request; parameters skiff has no use for (temperature, user, …) are accepted and ignored. */
const chatBody = z.object({
  model: z.string(),
  messages: wireMessagesSchema,
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().nullable().optional() }).nullable().optional(),
  tools: z.array(z.unknown()).nullable().optional(),
  n: z.number().int().nullable().optional(),
});

/**
 * POST /v1/chat/completions: the agent as an OpenAI model named "skiff". The client sends the
 * whole conversation; skiff runs its own tools and answers the last user message. Streaming
 * sends the text as it is written (text of every step, separated by a blank line).
 */
export async function postChatCompletion(ctx: AppContext, req: Request, info: RequestInfo): Promise<Response> {
  const body = await readJsonBody(req, ctx.bodyLimits);
  const parsed = chatBody.safeParse(body);
  if (!parsed.success) throw issueError(parsed.error.issues);
  const request = parsed.data;
  if (request.model !== agentModelName) {
    throw new HttpError(404, "not_found_error", `model: "${request.model}" does not exist here; this server has one model, "${agentModelName}" (the agent)`, {
      param: "model",
    });
  }
  if (request.tools && request.tools.length > 0) {
    throw badRequest("tools: skiff runs its own tools (see GET /v1/tools); client-side tools are not supported, so leave tools out", "tools");
  }
  if (request.n !== undefined && request.n !== null && request.n !== 1) throw badRequest("n: only one choice (n = 1) is supported", "n");
  const input = fromWireMessages(request.messages);
  if (input.at(-1)?.role !== "user") {
    throw badRequest('messages: the last message must be from the user (role "user"); skiff answers it', "messages");
  }

  const stream = request.stream === true;
  // A stream's reader can also cancel it; that too stops the run.
  const streamGone = stream ? new AbortController() : undefined;
  const prepared = await prepareRun(
    ctx,
    streamGone ? AbortSignal.any([req.signal, streamGone.signal]) : req.signal,
    { input, sessionId: undefined, maxSteps: undefined, timeoutMs: undefined, stream, traceparent: traceparentOf(req) },
    info,
  );
  const id = `chatcmpl-${prepared.ids.id}`;
  const created = Math.floor(ctx.now() / 1000);
  const headers = { "x-skiff-run-id": prepared.ids.id };

  if (!stream) {
    const end = await prepared.run();
    if (!end.ok) {
      const response = end.failure.http.toResponse();
      response.headers.set("x-skiff-run-id", prepared.ids.id);
      return response;
    }
    const completion = {
      id,
      object: "chat.completion",
      created,
      model: agentModelName,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: end.result.output, refusal: null },
          logprobs: null,
          finish_reason: openAIFinishReason(end.result.finishReason),
        },
      ],
      usage: usageOf(end.result),
    };
    return Response.json(completion, { headers });
  }

  const { response, channel } = openSse(ctx.heartbeat, headers, () => streamGone?.abort());
  const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
    JSON.stringify({ id, object: "chat.completion.chunk", created, model: agentModelName, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
  channel.send(chunk({ role: "assistant", content: "" }, null));
  let lastStep = 0;
  let sentText = false;
  info.finished = prepared
    .run((event) => {
      if (event.type !== "model.delta") return;
      // Text of a new step (after tools ran) starts a new paragraph.
      const text = sentText && event.step !== lastStep ? `\n\n${event.text}` : event.text;
      lastStep = event.step;
      sentText = true;
      channel.send(chunk({ content: text }, null));
    })
    .then((end) => {
      if (clientGone(channel, end)) info.status = clientClosedStatus;
      if (!end.ok) {
        // The OpenAI SDKs raise an APIError for an `error` object in the stream.
        channel.send(JSON.stringify(end.failure.http.body()));
        channel.close();
        return;
      }
      const finalStep = end.result.steps.at(-1)?.index ?? 0;
      if (end.result.output !== "" && lastStep !== finalStep) channel.send(chunk({ content: sentText ? `\n\n${end.result.output}` : end.result.output }, null));
      channel.send(chunk({}, openAIFinishReason(end.result.finishReason)));
      if (request.stream_options?.include_usage) {
        channel.send(JSON.stringify({ id, object: "chat.completion.chunk", created, model: agentModelName, choices: [], usage: usageOf(end.result) }));
      }
      channel.send("[DONE]");
      channel.close();
    });
  return response;
}

/** OpenAI has no "max_steps" or "budget": a run cut short by a limit reads as "length". */
function openAIFinishReason(reason: FinishReason): "stop" | "length" | "content_filter" {
  return reason === "stop" || reason === "content_filter" ? reason : "length";
}

function usageOf(result: RunResult) {
  const usage = result.usage;
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}
