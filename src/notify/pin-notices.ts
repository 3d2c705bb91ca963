/**
 * "Your PIN has changed": a live PIN that replaced an earlier one, for a person who had already been
 * told a PIN. Sent once the provider holds the new PIN (or after the grace, with a note).
 */
import type { ScanContext } from './context.js';
import { pinChanged } from './messages.js';
import { localWindow, render } from './render.js';
import { loadRules } from '../store/triggers.js';

export async function scanPins(ctx: ScanContext): Promise<number> {
  const { db } = ctx;
  const fresh = await db
    .selectFrom('pins')
    .innerJoin('people', 'people.id', 'pins.personId')
    .innerJoin('integrations', 'integrations.id', 'pins.integrationId')
    .select(['pins.id', 'pins.integrationId', 'pins.personId', 'pins.createdAt', 'people.name', 'people.email', 'people.organisationId', 'integrations.name as integrationName'])
    .where('pins.createdAt', '>=', ctx.now - ctx.lookbackMs)
    .where('pins.revokedAt', 'is', null)
    .execute();
  let queued = 0;
  for (const pin of fresh) {
    const settledKey = `pin:${pin.id}`;
    if (ctx.settled.has(settledKey)) continue;
    if (ctx.stopping?.()) return queued;
    await ctx.breathe?.();
    if (!pin.email) {
      ctx.settled.add(settledKey);
      continue;
    }
    const replaced = await db
      .selectFrom('pins')
      .select('id')
      .where('integrationId', '=', pin.integrationId)
      .where('personId', '=', pin.personId)
      .where('id', '!=', pin.id)
      .where('revokedAt', 'is not', null)
      .executeTakeFirst();
    // Only tell someone their PIN changed if they were told the old one; a booking e-mail written
    // after the change already carries the new PIN. (Most fresh PINs are first PINs: asked only then.)
    const toldBefore =
      replaced &&
      (await db
        .selectFrom('notifications')
        .select('id')
        .where('personId', '=', pin.personId)
        .where('kind', 'in', ['booking.confirmed', 'booking.moved', 'pin.changed'])
        .where('createdAt', '<', pin.createdAt)
        .executeTakeFirst());
    if (!toldBefore) {
      ctx.settled.add(settledKey);
      continue;
    }
    // Trigger rules: a person booked into a space whose PINs are not sent by e-mail reads the new PIN on the guest page.
    if (await pinWithheld(ctx, pin.personId, pin.integrationId)) {
      ctx.settled.add(settledKey);
      continue;
    }
    const dedupeKey = `pin.changed:${pin.id}`;
    if (await ctx.outbox.exists(dedupeKey)) {
      ctx.settled.add(settledKey);
      continue;
    }
    const user = await db.selectFrom('providerUsers').select('pinId').where('integrationId', '=', pin.integrationId).where('personId', '=', pin.personId).executeTakeFirst();
    const onProvider = !user || user.pinId === pin.id;
    if (!onProvider && ctx.now < pin.createdAt + ctx.graceMs) continue;
    const plain = await ctx.pins.find(pin.integrationId, pin.personId);
    // Regenerated again since this scan began: the newer PIN gets its own message.
    if (!plain || plain.id !== pin.id) continue;
    const upcoming = await upcomingBookings(ctx, pin.personId, pin.integrationId);
    const content = pinChanged({ personName: pin.name, integrationName: pin.integrationName, pin: plain.pin, upcoming, stillPending: !onProvider });
    if (await ctx.outbox.add({ organisationId: pin.organisationId, personId: pin.personId, toAddress: pin.email, kind: 'pin.changed', dedupeKey, message: render(content) }, ctx.deliver, ctx.now)) queued++;
    ctx.settled.add(settledKey);
  }
  return queued;
}

/** The person's confirmed bookings (as organiser or invitee) not over yet, in spaces mapped to the integration. */
function upcomingOnIntegration(ctx: ScanContext, personId: string, integrationId: string) {
  return ctx.db
    .selectFrom('bookings')
    .where('bookings.status', '=', 'confirmed')
    .where('bookings.endsAt', '>', ctx.now)
    .where((eb) =>
      eb.or([
        eb('bookings.organiserId', '=', personId),
        eb('bookings.id', 'in', eb.selectFrom('bookingInvitees').select('bookingId').where('personId', '=', personId)),
      ]),
    )
    .where('bookings.spaceId', 'in', (eb) => eb.selectFrom('mappings').select('spaceId').where('integrationId', '=', integrationId));
}

async function upcomingBookings(ctx: ScanContext, personId: string, integrationId: string) {
  const rows = await upcomingOnIntegration(ctx, personId, integrationId)
    .innerJoin('spaces', 'spaces.id', 'bookings.spaceId')
    .innerJoin('locations', 'locations.id', 'spaces.locationId')
    .select(['bookings.title', 'bookings.startsAt', 'bookings.endsAt', 'spaces.name as spaceName', 'locations.timeZone'])
    .orderBy('bookings.startsAt')
    .limit(10)
    .execute();
  return rows.map((b) => ({ what: b.title ? `${b.title} (${b.spaceName})` : b.spaceName, window: localWindow(b.startsAt, b.endsAt, b.timeZone) }));
}

/** The person has an upcoming booking on this integration in a space whose delivery is not 'email'. */
async function pinWithheld(ctx: ScanContext, personId: string, integrationId: string): Promise<boolean> {
  const rows = await upcomingOnIntegration(ctx, personId, integrationId).select('bookings.spaceId').execute();
  const rules = await loadRules(ctx.db, 'space', [...new Set(rows.map((r) => r.spaceId))]);
  return [...rules.values()].some((r) => r.delivery !== null && r.delivery !== 'email');
}
