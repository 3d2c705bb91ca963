import { describe, expect, it } from 'vitest';
import { formatLocal, isValidTimeZone, localToInstant, parseInstant, TimeInputError } from '../../src/domain/time.js';

const HOUR = 3_600_000;

function errorOf(fn: () => unknown): TimeInputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TimeInputError);
    return err as TimeInputError;
  }
  throw new Error('expected a TimeInputError');
}

describe('isValidTimeZone', () => {
  it.each(['Europe/London', 'America/New_York', 'Australia/Sydney', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/GMT+1'])(
    'accepts %s',
    (zone) => expect(isValidTimeZone(zone)).toBe(true),
  );

  it.each(['', 'garbage', 'Europe/Londres', 'Mars/Olympus_Mons', '+01:00', 'Z', 'local', 'system', ' Europe/London', 'Europe/London\n', '../etc/passwd'])(
    'rejects %j',
    (zone) => expect(isValidTimeZone(zone)).toBe(false),
  );
});

describe('parseInstant', () => {
  it('accepts Z and numeric offsets', () => {
    expect(parseInstant('2026-03-29T08:00:00Z')).toBe(Date.UTC(2026, 2, 29, 8));
    expect(parseInstant('2026-03-29T09:00:00+01:00')).toBe(Date.UTC(2026, 2, 29, 8));
    expect(parseInstant('2026-03-29T04:00:00-04:00')).toBe(Date.UTC(2026, 2, 29, 8));
    expect(parseInstant('2026-03-29T09:00+0100')).toBe(Date.UTC(2026, 2, 29, 8));
    expect(parseInstant('2026-03-29T08:00:00.250Z')).toBe(Date.UTC(2026, 2, 29, 8) + 250);
  });

  it('rejects a missing offset with an explanation the API user can act on', () => {
    const err = errorOf(() => parseInstant('2026-03-29T09:00:00'));
    expect(err.message).toBe(
      "2026-03-29T09:00:00 has no UTC offset; add one (e.g. 2026-03-29T09:00:00+01:00 or 2026-03-29T09:00:00Z) " +
        "or send startLocal/endLocal, which are read in the location's time zone",
    );
  });

  it.each(['tomorrow', '', '2026-03-29', '29/03/2026 09:00', '2026-03-29 09:00:00Z', '1711699200000'])(
    'rejects unparseable %j naming the expected format',
    (value) => {
      const err = errorOf(() => parseInstant(value));
      expect(err.message).toMatch(/expected an ISO-8601 date-time with a UTC offset/);
      expect(err.message).toContain('2026-03-29T09:00:00+01:00');
    },
  );

  it('rejects impossible calendar dates', () => {
    const err = errorOf(() => parseInstant('2026-02-30T09:00:00Z'));
    expect(err.message).toMatch(/not a valid date-time/);
  });

  it('truncates very long garbage in the message', () => {
    const err = errorOf(() => parseInstant('x'.repeat(10_000)));
    expect(err.message.length).toBeLessThan(300);
  });
});

describe('localToInstant / formatLocal', () => {
  it('maps ordinary local times in summer and winter', () => {
    expect(localToInstant('2026-07-01T09:00:00', 'Europe/London')).toBe(Date.UTC(2026, 6, 1, 8));
    expect(localToInstant('2026-01-15T09:00', 'Europe/London')).toBe(Date.UTC(2026, 0, 15, 9));
    expect(localToInstant('2026-01-15T09:00:00', 'America/New_York')).toBe(Date.UTC(2026, 0, 15, 14));
  });

  describe.each([
    // zone, spring-forward day, gap time, fall-back day, ambiguous time, [winter offset, summer offset]
    ['Europe/London', '2026-03-29', '01:30', '2026-10-25', '01:30', ['+00:00', '+01:00']],
    ['America/New_York', '2026-03-08', '02:30', '2026-11-01', '01:30', ['-05:00', '-04:00']],
  ] as const)('%s', (zone, springDay, gapTime, fallDay, ambiguousTime, [winter, summer]) => {
    it('a 09:00–11:00 booking on the spring-forward day is exactly 09:00–11:00 local, 2 hours', () => {
      const start = localToInstant(`${springDay}T09:00:00`, zone);
      const end = localToInstant(`${springDay}T11:00:00`, zone);
      expect(end - start).toBe(2 * HOUR);
      expect(formatLocal(start, zone)).toBe(`${springDay}T09:00:00${summer}`);
      expect(formatLocal(end, zone)).toBe(`${springDay}T11:00:00${summer}`);
    });

    it('a 09:00–11:00 booking on the fall-back day is exactly 09:00–11:00 local, 2 hours', () => {
      const start = localToInstant(`${fallDay}T09:00:00`, zone);
      const end = localToInstant(`${fallDay}T11:00:00`, zone);
      expect(end - start).toBe(2 * HOUR);
      expect(formatLocal(start, zone)).toBe(`${fallDay}T09:00:00${winter}`);
      expect(formatLocal(end, zone)).toBe(`${fallDay}T11:00:00${winter}`);
    });

    it('a booking spanning the spring-forward gap is an hour shorter in real time', () => {
      const start = localToInstant(`${springDay}T00:00:00`, zone);
      const end = localToInstant(`${springDay}T04:00:00`, zone);
      expect(end - start).toBe(3 * HOUR);
    });

    it('rejects a local time inside the spring-forward gap, saying why', () => {
      const err = errorOf(() => localToInstant(`${springDay}T${gapTime}:00`, zone));
      expect(err.message).toContain(`${springDay}T${gapTime}:00 does not exist in ${zone}`);
      expect(err.message).toMatch(/daylight-saving/);
    });

    it('resolves an ambiguous fall-back time to the earlier (summer-time) occurrence', () => {
      const ms = localToInstant(`${fallDay}T${ambiguousTime}:00`, zone);
      expect(formatLocal(ms, zone)).toBe(`${fallDay}T${ambiguousTime}:00${summer}`);
      // The later occurrence is exactly one hour after it and reads the same on the wall clock.
      expect(formatLocal(ms + HOUR, zone)).toBe(`${fallDay}T${ambiguousTime}:00${winter}`);
    });
  });

  it('handles the instants right at the London transitions', () => {
    // 01:00 local on 2026-03-29 is the first instant of the gap, so it does not exist; 00:59 and 02:00 do.
    expect(() => localToInstant('2026-03-29T01:00:00', 'Europe/London')).toThrow(TimeInputError);
    expect(localToInstant('2026-03-29T00:59:00', 'Europe/London')).toBe(Date.UTC(2026, 2, 29, 0, 59));
    expect(localToInstant('2026-03-29T02:00:00', 'Europe/London')).toBe(Date.UTC(2026, 2, 29, 1));
    expect(localToInstant('2026-10-25T01:00:00', 'Europe/London')).toBe(Date.UTC(2026, 9, 25, 0));
    expect(localToInstant('2026-10-25T02:00:00', 'Europe/London')).toBe(Date.UTC(2026, 9, 25, 2));
  });

  it('keeps seconds and milliseconds of the local time', () => {
    expect(localToInstant('2026-07-01T09:00:30.5', 'UTC')).toBe(Date.UTC(2026, 6, 1, 9, 0, 30, 500));
  });

  it('rejects a local time that carries an offset', () => {
    const err = errorOf(() => localToInstant('2026-03-29T09:00:00+01:00', 'Europe/London'));
    expect(err.message).toMatch(/has a UTC offset/);
    expect(err.message).toContain('2026-03-29T09:00:00)');
    expect(() => localToInstant('2026-03-29T09:00:00Z', 'Europe/London')).toThrow(TimeInputError);
  });

  it('rejects garbage and impossible dates', () => {
    expect(() => localToInstant('soon', 'Europe/London')).toThrow(TimeInputError);
    expect(() => localToInstant('2026-02-30T09:00:00', 'Europe/London')).toThrow(/not a valid local date-time/);
  });

  it('rejects an unknown zone in both directions', () => {
    expect(() => localToInstant('2026-07-01T09:00:00', 'Mars/Base')).toThrow(/not a known IANA time zone/);
    expect(() => formatLocal(0, 'Mars/Base')).toThrow(TimeInputError);
  });

  it('formatLocal drops milliseconds and always includes the offset', () => {
    expect(formatLocal(Date.UTC(2026, 6, 1, 8, 0, 0, 999), 'Europe/London')).toBe('2026-07-01T09:00:00+01:00');
    expect(formatLocal(Date.UTC(2026, 0, 1), 'UTC')).toBe('2026-01-01T00:00:00+00:00');
    expect(formatLocal(Date.UTC(2026, 0, 1), 'Asia/Kolkata')).toBe('2026-01-01T05:30:00+05:30');
  });

  it('round-trips formatLocal → parseInstant', () => {
    const ms = Date.UTC(2026, 9, 25, 0, 30);
    expect(parseInstant(formatLocal(ms, 'Europe/London'))).toBe(ms);
    expect(parseInstant(formatLocal(ms + HOUR, 'Europe/London'))).toBe(ms + HOUR);
  });
});
