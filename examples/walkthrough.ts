// The README's five-minute walk-through with the TypeScript client. With `npm start` running:
//   npx tsx examples/walkthrough.ts
// (test/client/walkthrough.test.ts runs this file against a real Lockstep, and checks that the
// README shows it unchanged.)
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { LockstepClient } from '../src/client/index.js';

/** What `npm start` wrote to data/demo-keys.json (the parts used here). */
export interface DemoKeys {
  teamAdminKey: string;
  integrationId: string;
  spaces: { id: string; name: string }[];
}

export async function walkthrough({ baseUrl, keys, log = console.log }: { baseUrl: string; keys: DemoKeys; log?: (step: string, answer: unknown) => void }) {
  const lockstep = new LockstepClient({ baseUrl, apiKey: keys.teamAdminKey });
  const room = keys.spaces.find((s) => s.name === 'Meeting room 1')!;
  // `hours` from now, on the full hour. Times need a UTC offset (or use startLocal/endLocal).
  const fullHour = (hours: number) => new Date(Math.floor(Date.now() / 3_600_000 + hours) * 3_600_000).toISOString();

  // A booking starting at the next full hour, for two hours.
  const booking = await lockstep.createBooking({
    spaceId: room.id,
    organiser: { name: 'Ada Lovelace', email: 'ada@example.com' },
    invitees: [{ name: 'Charles Babbage', email: 'charles@example.com' }],
    start: fullHour(1),
    end: fullHour(3),
  });
  log('booked', booking);

  // Is it on the doors yet? (pending → applied, per person and door, with any provider error)
  const applied = await lockstep.waitForSync(booking.id);
  log('on the doors', applied);

  // What the provider now holds: its users and grants, what is due, what is failing.
  log('the door system holds', await lockstep.getIntegrationStatus(keys.integrationId));

  // Ada's PIN, as Ada sees it on her dashboard: a guest key speaks for one person.
  const guestKey = await lockstep.createApiKey({ role: 'guest', name: 'Ada', personId: booking.organiserId });
  const ada = new LockstepClient({ baseUrl, apiKey: guestKey.key });
  const pins = await ada.myPins();
  log("Ada's PIN", pins);

  // Move it by an hour: the membership moves, the PIN stays.
  const moved = await lockstep.updateBooking(booking.id, { end: fullHour(4) });
  const movedOnDoors = await lockstep.waitForSync(booking.id);
  log('moved', movedOnDoors);

  // Cancel it: access is revoked and the provider users are removed.
  const cancelled = await lockstep.cancelBooking(booking.id);
  const revoked = await lockstep.waitForSync(booking.id, { until: ['revoked'] });
  log('cancelled', revoked);

  // Who did what, when and why.
  const audit = await lockstep.listAudit({ subjectId: booking.id, limit: 20 });
  log('audit', audit);

  return { booking, applied, pins, moved, movedOnDoors, cancelled, revoked, audit };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const keys = JSON.parse(readFileSync('data/demo-keys.json', 'utf8')) as DemoKeys;
  await walkthrough({ baseUrl: process.env.LOCKSTEP_URL ?? 'http://127.0.0.1:3000', keys });
}
