import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { localTime, localWindow } from '../../src/notify/render.js';

// The text guests have always read, as luxon formats it: the reference the faster formatter must match.
const reference = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).setLocale('en-GB').toFormat('ccc d LLL yyyy, HH:mm');
const zones = ['Europe/London', 'UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham', 'America/St_Johns', 'Australia/Lord_Howe', 'Europe/Berlin'];

describe('local wall-clock text in messages', () => {
  it('reads the same as the luxon format across zones, months, DST changes and midnights', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const instants = [Date.UTC(2026, 2, 29, 0, 59), Date.UTC(2026, 2, 29, 1, 0), Date.UTC(2026, 9, 25, 0, 30), Date.UTC(2026, 8, 1, 23, 59), Date.UTC(2027, 0, 1, 0, 0)];
    for (let i = 0; i < 400; i++) instants.push(Date.UTC(2026, 0, 1) + Math.floor(random() * 366 * 86_400_000));
    for (const zone of zones) for (const ms of instants) expect(localTime(ms, zone)).toBe(`${reference(ms, zone)} (${zone})`);
  });

  it('shortens the end of a window to the time only when both ends fall on the same local day', () => {
    const zone = 'Asia/Kolkata';
    const start = DateTime.fromISO('2026-12-01T23:00', { zone }).toMillis();
    expect(localWindow(start, start + 30 * 60_000, zone)).toBe('Tue 1 Dec 2026, 23:00 – 23:30 (Asia/Kolkata)');
    expect(localWindow(start, start + 90 * 60_000, zone)).toBe('Tue 1 Dec 2026, 23:00 – Wed 2 Dec 2026, 00:30 (Asia/Kolkata)');
    // Same UTC day, different local days (and the reverse) must follow the local calendar.
    const london = DateTime.fromISO('2026-07-01T23:30', { zone: 'Europe/London' }).toMillis();
    expect(localWindow(london, london + 60 * 60_000, 'Europe/London')).toBe('Wed 1 Jul 2026, 23:30 – Thu 2 Jul 2026, 00:30 (Europe/London)');
    expect(localWindow(start, null, zone)).toBe('from Tue 1 Dec 2026, 23:00 (Asia/Kolkata), no end date');
  });
});
