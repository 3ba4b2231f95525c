import type { AppContext } from "../context.ts";
import { badRequest, HttpError } from "../http-error.ts";
import { SessionStoreError, sessionIdPattern, sessionIdRule } from "../../sessions/index.ts";
import { storeUnavailable } from "../run-errors.ts";
import { toWireMessage } from "../wire-messages.ts";

/** GET /v1/sessions/{id}: the stored conversation, in the same message form `input` accepts. */
export async function getSession(ctx: AppContext, id: string): Promise<Response> {
  checkId(id);
  const session = await storeCall(() => ctx.store.get(id), `reading session "${id}"`);
  if (!session) throw notFound(id);
  return Response.json({
    id: session.id,
    turns: session.version,
    created_at: new Date(session.createdAt).toISOString(),
    updated_at: new Date(session.updatedAt).toISOString(),
    messages: session.messages.map(toWireMessage),
  });
}

/** DELETE /v1/sessions/{id}: forgets the conversation; 409 while a run on it is in progress. */
export async function deleteSession(ctx: AppContext, id: string): Promise<Response> {
  checkId(id);
  if (ctx.busySessions.has(id)) {
    throw new HttpError(409, "conflict_error", `session "${id}" has a run in progress; delete it when the run has finished`, { param: "id" });
  }
  if (!(await storeCall(() => ctx.store.delete(id), `deleting session "${id}"`))) throw notFound(id);
  return Response.json({ id, deleted: true });
}

/** A store call whose failure or silence (server.store_timeout) is a 503, not a 500. */
async function storeCall<T>(call: () => Promise<T>, doing: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw error instanceof SessionStoreError ? storeUnavailable(error, doing, "retry in a moment") : error;
  }
}

function checkId(id: string): void {
  if (!sessionIdPattern.test(id)) throw badRequest(`the session id "${id.slice(0, 140)}" is not valid: ${sessionIdRule}`, "id");
}

function notFound(id: string): HttpError {
  return new HttpError(404, "not_found_error", `there is no session "${id}"; a session is created by the first run that names it in session_id`, {
    param: "id",
  });
}
