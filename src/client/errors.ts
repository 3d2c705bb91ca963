/**
 * The error a LockstepClient method throws when the API answers outside 2xx. It carries the API's
 * error body (`{ error, message, issues? }`, src/api/errors.ts): `code` for programs, `message` for
 * people, `issues` naming each offending field of a 400.
 */

export interface FieldIssue {
  /** Where: `body.start`, `querystring.limit`, `inviteeIds.0`, … */
  path: string;
  message: string;
}

/** The API's error body. */
export interface ApiErrorBody {
  error: string;
  message: string;
  issues?: FieldIssue[];
}

export class LockstepApiError extends Error {
  override readonly name = 'LockstepApiError';

  constructor(
    /** HTTP status. */
    readonly status: number,
    /** The API's error code (`validation`, `not_found`, `conflict`, `forbidden`, …), or `http_<status>` when the answer was not the API's error shape (a proxy's page, say). */
    readonly code: string,
    /** What the API said is wrong; never the API key. */
    readonly detail: string,
    readonly issues: FieldIssue[],
    /** The operation, with the path as a template (`GET /v1/bookings/{id}`): ids stay out of logs that only want the route. */
    readonly operation: string,
    /** Seconds to wait before trying again, from Retry-After on a 429/503. */
    readonly retryAfterSeconds: number | null,
  ) {
    super(`${operation} → ${status} ${code}: ${detail}`);
  }

  static fromResponse(operation: string, response: Response, body: unknown): LockstepApiError {
    const retryAfter = Number(response.headers.get('retry-after'));
    const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter >= 0 && response.headers.has('retry-after') ? retryAfter : null;
    if (isApiErrorBody(body)) {
      const issues = Array.isArray(body.issues) ? body.issues.filter(isFieldIssue) : [];
      return new LockstepApiError(response.status, body.error, body.message, issues, operation, retryAfterSeconds);
    }
    // Not the API's shape: say so without quoting the body (it could be anything, of any size).
    return new LockstepApiError(response.status, `http_${response.status}`, response.statusText || 'the answer was not a Lockstep API error', [], operation, retryAfterSeconds);
  }
}

function isApiErrorBody(v: unknown): v is ApiErrorBody {
  return typeof v === 'object' && v !== null && typeof (v as ApiErrorBody).error === 'string' && typeof (v as ApiErrorBody).message === 'string';
}

function isFieldIssue(v: unknown): v is FieldIssue {
  return typeof v === 'object' && v !== null && typeof (v as FieldIssue).path === 'string' && typeof (v as FieldIssue).message === 'string';
}
