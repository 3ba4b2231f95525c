import { SkiffError } from "../errors.ts";

/** The `error.type` values skiff's HTTP API uses (OpenAI's names where OpenAI has one). */
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "method_not_allowed"
  | "conflict_error"
  | "request_too_large"
  | "rate_limit_error"
  | "timeout_error"
  | "model_error"
  | "service_unavailable"
  | "server_error";

/** What an HttpError carries besides its status, type and message. */
export interface HttpErrorOptions {
  /** The request field at fault, e.g. `input[2].content`; null when none is. */
  readonly param?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
  /** More top-level fields of the body next to `error`, e.g. `partial` with what a run did. */
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/**
 * An error that renders itself as `{"error":{"type","message","param"}}` with its status. Routes
 * throw it; the app's one error handler turns it into the response.
 */
export class HttpError extends SkiffError {
  readonly status: number;
  readonly type: ErrorType;
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly extra: Readonly<Record<string, unknown>> | undefined;

  constructor(status: number, type: ErrorType, message: string, options: HttpErrorOptions = {}) {
    super(`http_${status}`, message, { cause: options.cause });
    this.status = status;
    this.type = type;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
    this.extra = options.extra;
  }

  /** The JSON body: the one error shape, plus any extra fields. */
  body(): Record<string, unknown> {
    return { error: { type: this.type, message: this.message, param: this.param }, ...this.extra };
  }

  /** The HTTP response. */
  toResponse(): Response {
    return Response.json(this.body(), { status: this.status, headers: this.headers });
  }
}

/** 400 naming the field at fault. */
export function badRequest(message: string, param: string | null = null): HttpError {
  return new HttpError(400, "invalid_request_error", message, { param });
}
