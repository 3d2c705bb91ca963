/**
 * The error every entry point answers with (the REST API, the booking sources' webhooks, the
 * console): an HTTP status, a code, a message that says what is wrong and how to fix it, and the
 * offending fields. Lives below the API so the sources and commands can throw it too; the API's
 * error handler (src/api/errors.ts) renders it as `{ error, message, issues? }`.
 */

export interface FieldIssue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[] = [],
    /** Response headers that belong to the error (e.g. Retry-After on a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
