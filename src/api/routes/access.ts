/**
 * PINs and the guest's own view. A PIN is shown only to its owner (guest key) — never in lists,
 * logs or the audit log. Hosts regenerate; the engine then replaces it on the provider.
 */
import { z } from 'zod';
import type { RouteModule } from '../types.js';
import { bearer, iso } from '../types.js';
import { assertSameOrganisation, requireRole } from '../auth.js';
import { badRequest, forbidden, notFound } from '../errors.js';
import { regenerateCode } from '../../commands/pins.js';
import { personView } from './people.js';
import { formatLocal } from '../../domain/time.js';
import { openDoorsNow } from '../door-open.js';

export const accessRoutes: RouteModule = (api, app) => {
  const db = app.store.db;

  api.post('/v1/people/:id/pins/regenerate', {
    schema: {
      tags: ['pins'],
      security: bearer,
      params: z.object({ id: z.string() }),
      body: z.object({ integrationId: z.string().min(1) }).strict(),
      summary: "Replace a person's PIN on an integration; the old one stops working everywhere",
    },
  }, async (req) => {
    requireRole(req.principal, 'host');
    const person = await db.selectFrom('people').select(['id', 'organisationId']).where('id', '=', req.params.id).executeTakeFirst();
    if (!person) throw notFound('person', req.params.id);
    assertSameOrganisation(req.principal, person.organisationId, 'person', person.id);
    const integration = await db.selectFrom('integrations').selectAll().where('id', '=', req.body.integrationId).where('organisationId', '=', person.organisationId).executeTakeFirst();
    if (!integration) throw badRequest('integrationId', `integration ${req.body.integrationId} does not exist in this organisation; list them with GET /v1/integrations`);
    const done = await regenerateCode({ db, pins: app.pins, changes: app.changes }, person, integration, app.engine.adapterFor(integration), req.principal.keyId);
    return done.kind === 'pin'
      ? { personId: person.id, integrationId: integration.id, pinId: done.pinId, issuedAt: iso(done.issuedAt), note: done.note }
      : { personId: person.id, integrationId: integration.id, grants: done.grants, note: done.note };
  });

  api.get('/v1/me', { schema: { tags: ['me'], security: bearer, summary: 'Who this API key is' } }, async (req) => {
    const p = req.principal;
    const person = p.personId ? await db.selectFrom('people').selectAll().where('id', '=', p.personId).executeTakeFirst() : undefined;
    return { keyId: p.keyId, role: p.role, organisationId: p.organisationId, person: person ? personView(person) : null };
  });

  api.get('/v1/me/pins', { schema: { tags: ['me'], security: bearer, summary: "The guest's own PINs, one per integration" } }, async (req) => {
    const p = req.principal;
    if (p.role !== 'guest' || !p.personId) throw forbidden('only a guest key (tied to one person) can read its PINs');
    const integrations = await db.selectFrom('integrations').select(['id', 'name', 'kind']).where('organisationId', '=', p.organisationId!).where('status', '=', 'active').execute();
    const results = [];
    for (const i of integrations) {
      const pin = await app.pins.find(i.id, p.personId);
      if (pin) results.push({ integrationId: i.id, integrationName: i.name, pin: pin.pin, issuedAt: iso(pin.createdAt) });
    }
    return { results };
  });

  api.get('/v1/me/credentials', {
    schema: { tags: ['me'], security: bearer, summary: "Codes, URL keys and mobile keys the provider issued for the guest's bookings" },
  }, async (req) => {
    const p = req.principal;
    if (p.role !== 'guest' || !p.personId) throw forbidden('only a guest key (tied to one person) can read its credentials');
    const rows = await db
      .selectFrom('providerGrants')
      .innerJoin('integrations', 'integrations.id', 'providerGrants.integrationId')
      .select([
        'providerGrants.id', 'providerGrants.integrationId', 'integrations.name as integrationName', 'providerGrants.targetRef',
        'providerGrants.credentialKind', 'providerGrants.credentialSealed', 'providerGrants.credentialValidFrom',
        'providerGrants.credentialValidUntil', 'providerGrants.credentialInstructions', 'providerGrants.credentialFirstUseBefore', 'providerGrants.startsAt', 'providerGrants.endsAt',
      ])
      .where('providerGrants.personId', '=', p.personId)
      .where('integrations.organisationId', '=', p.organisationId!)
      .where('integrations.status', '=', 'active')
      .where('providerGrants.state', '=', 'present')
      .where('providerGrants.credentialSealed', 'is not', null)
      .orderBy('providerGrants.startsAt')
      .execute();
    const mappings = await db
      .selectFrom('mappings')
      .innerJoin('spaces', 'spaces.id', 'mappings.spaceId')
      .innerJoin('locations', 'locations.id', 'spaces.locationId')
      .select(['mappings.integrationId', 'mappings.targetRef', 'mappings.targetName', 'locations.timeZone'])
      .where('mappings.organisationId', '=', p.organisationId!)
      .execute();
    const mappingOf = (integrationId: string, ref: string) => mappings.find((m) => m.integrationId === integrationId && m.targetRef === ref);
    // Guests read times in the door's own time zone.
    const local = (ms: number | null, zone: string | undefined) => (ms === null ? null : zone ? formatLocal(ms, zone) : iso(ms));
    return {
      results: rows.map((r) => {
        const zone = mappingOf(r.integrationId, r.targetRef)?.timeZone;
        const validUntil = r.credentialValidUntil ?? r.endsAt;
        return {
          grantId: r.id,
          integrationId: r.integrationId,
          integrationName: r.integrationName,
          targetRef: r.targetRef,
          targetName: mappingOf(r.integrationId, r.targetRef)?.targetName ?? null,
          kind: r.credentialKind,
          secret: app.secrets.open(r.credentialSealed!),
          validFrom: iso(r.credentialValidFrom ?? r.startsAt),
          validUntil: validUntil === null ? null : iso(validUntil),
          firstUseBefore: r.credentialFirstUseBefore === null ? null : iso(r.credentialFirstUseBefore),
          timeZone: zone ?? null,
          local: {
            validFrom: local(r.credentialValidFrom ?? r.startsAt, zone),
            validUntil: local(validUntil, zone),
            firstUseBefore: local(r.credentialFirstUseBefore, zone),
          },
          instructions: r.credentialInstructions,
        };
      }),
    };
  });

  api.post('/v1/me/open', {
    schema: {
      tags: ['me'],
      security: bearer,
      body: z.object({ spaceId: z.string().min(1) }).strict(),
      summary: 'Open the doors of a booked space now (providers with a remote "pulse" open), during a valid booking window',
    },
  }, async (req) => {
    const p = req.principal;
    if (p.role !== 'guest' || !p.personId) throw forbidden('only a guest key (tied to one person) can open doors');
    const { mapped, opened } = await openDoorsNow(app, { organisationId: p.organisationId!, personId: p.personId, spaceId: req.body.spaceId, actor: p.keyId });
    if (!mapped) throw notFound('space', req.body.spaceId);
    if (opened.length === 0) {
      throw forbidden('no door of this space can be opened for you now: you need a booking whose window (with buffers) includes this moment, on a provider that can open doors remotely');
    }
    return { opened };
  });
};
