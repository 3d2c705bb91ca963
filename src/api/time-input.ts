/**
 * Reads start/end from an API body: either instants with an explicit offset (`start`, `end`) or
 * wall-clock times read in the location's zone (`startLocal`, `endLocal`). Never both, never a
 * bare local time silently taken as UTC.
 */
import { parseInstant, localToInstant, TimeInputError } from '../domain/time.js';
import { badRequest } from './errors.js';

export interface TimeFields {
  start?: string;
  end?: string;
  startLocal?: string;
  endLocal?: string;
}

export function readWindow(body: TimeFields, timeZone: string, opts: { endOptional?: boolean } = {}): { startsAt: number; endsAt: number | null } {
  const hasInstant = body.start !== undefined || body.end !== undefined;
  const hasLocal = body.startLocal !== undefined || body.endLocal !== undefined;
  if (hasInstant && hasLocal) throw badRequest('start', 'send either start/end (with UTC offset) or startLocal/endLocal (in the location time zone), not both');
  const read = (field: string, value: string | undefined, local: boolean): number | null => {
    if (value === undefined) return null;
    try {
      return local ? localToInstant(value, timeZone) : parseInstant(value);
    } catch (err) {
      if (err instanceof TimeInputError) throw badRequest(field, err.message);
      throw err;
    }
  };
  const startsAt = hasLocal ? read('startLocal', body.startLocal, true) : read('start', body.start, false);
  const endsAt = hasLocal ? read('endLocal', body.endLocal, true) : read('end', body.end, false);
  if (startsAt === null) throw badRequest(hasLocal ? 'startLocal' : 'start', 'required: when access starts, e.g. "2026-12-01T09:00:00+01:00" (or startLocal "2026-12-01T09:00")');
  if (endsAt === null && !opts.endOptional) throw badRequest(hasLocal ? 'endLocal' : 'end', 'required: when access ends, after start');
  if (endsAt !== null && endsAt <= startsAt) throw badRequest(hasLocal ? 'endLocal' : 'end', 'must be after start');
  return { startsAt, endsAt };
}

/** One instant from a request (ISO-8601 with offset), or a 400 naming the field and what is wrong. */
export function instantField(field: string, value: string): number {
  try {
    return parseInstant(value);
  } catch (err) {
    if (err instanceof TimeInputError) throw badRequest(field, err.message);
    throw err;
  }
}
