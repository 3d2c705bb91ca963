/**
 * The provider contract suite: the same scenarios, through the whole of Lockstep (API → engine → adapter →
 * provider over real HTTP), against every provider's peer. A provider passes when every scenario its
 * capabilities call for passes. Provider behaviour does not depend on the store, so this runs on
 * SQLite; the store suite covers PostgreSQL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, hoursFromNow, type Harness } from '../support/harness.js';
import type { HeldAccess, PersonOnProvider, ProviderFixture, RunningProvider } from './fixture.js';

const MIN = 60_000;
const BUFFER = 15 * MIN;

/** Call from test/contract/<kind>.contract.test.ts; one file per provider keeps them parallel and independent. */
export function describeProviderContract(fixture: ProviderFixture): void {
  describe(`provider contract: ${fixture.kind}`, () => {
    let provider: RunningProvider;
    let h: Harness;
    let space: string;
    beforeEach(async () => {
      provider = await fixture.start();
      h = await startHarness('sqlite', { provider });
      space = await h.space(provider.targets.slice(0, 2));
    });
    afterEach(async () => {
      await h?.close();
      await provider?.close();
    });

    const book = async (start: string, end: string, email = 'ada@example.com') => {
      const res = await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: `Guest ${email.split('@')[0]}`, email }, start, end }, h.keys.admin);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string; organiserId: string };
    };
    const person = async (id: string): Promise<PersonOnProvider> => {
      const p = (await h.call('GET', `/v1/people/${id}`, undefined, h.keys.admin)).body;
      return { id: p.id, name: p.name, email: p.email };
    };
    const guestPin = async (personId: string) => {
      const key = (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId }, h.keys.admin)).body.key;
      return (await h.call('GET', '/v1/me/pins', undefined, key)).body.results[0]?.pin as string | undefined;
    };
    // Providers that cannot hold a future window get access only once it starts: their scenarios book
    // windows that have begun, 1.5 h earlier than for everyone else.
    const shift = fixture.startedWindowsOnly ? -1.5 : 0;
    const at = (hours: number) => hoursFromNow(hours + shift);
    const guestKey = async (personId: string) => (await h.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId }, h.keys.admin)).body.key as string;
    type Credential = {
      targetRef: string;
      kind: string;
      secret: string;
      validFrom: string;
      validUntil: string | null;
      firstUseBefore: string | null;
      local: { validFrom: string; validUntil: string | null; firstUseBefore: string | null };
      instructions: string | null;
    };
    const guestCredentials = async (personId: string): Promise<Credential[]> =>
      (await h.call('GET', '/v1/me/credentials', undefined, await guestKey(personId))).body.results;
    /** Each mapped target holds a window covering the booking plus buffers (exactly, unless the provider rounds). */
    const expectCovered = (held: HeldAccess[], start: string, end: string) => {
      const from = Date.parse(start) - BUFFER;
      const until = Date.parse(end) + BUFFER;
      for (const target of provider.targets.slice(0, 2)) {
        const mine = held.filter((g) => g.targetRef === target);
        if (!fixture.revocable) {
          // Offline codes for earlier windows stay on the lock; one of them must cover this window.
          expect(mine.some((g) => g.from <= from && (g.until === null || g.until >= until)), `access on ${target}`).toBe(true);
          continue;
        }
        expect(mine, `access on ${target}`).toHaveLength(1);
        if (fixture.roundsWindows) {
          expect(mine[0].from).toBeLessThanOrEqual(from);
          expect(mine[0].until === null || mine[0].until >= until).toBe(true);
        } else {
          expect(mine[0]).toEqual({ targetRef: target, from, until });
        }
      }
    };

    it('first booking creates the user and access; a second booking reuses them', async () => {
      const [t1, t2, t3] = [at(1), at(2), at(3)];
      const first = await book(t1, t2);
      await h.converge();
      const p = await person(first.organiserId);
      expectCovered(await provider.holdings(p), t1, t2);
      const pin = fixture.personalPin ? await guestPin(p.id) : undefined;
      if (pin && provider.pinOpens) expect(await provider.pinOpens(p, pin, provider.targets[1], Date.parse(t1))).toBe(true);

      if (fixture.issuesCredentials) {
        const creds = await guestCredentials(p.id);
        expect(creds.map((c) => c.targetRef).sort()).toEqual(provider.targets.slice(0, 2).sort());
        for (const c of creds) {
          expect(Date.parse(c.validFrom)).toBeLessThanOrEqual(Date.parse(t1) - BUFFER);
          expect(c.validUntil === null || Date.parse(c.validUntil) >= Date.parse(t2) + BUFFER).toBe(true);
          if (provider.credentialOpens) expect(await provider.credentialOpens(c.secret, c.targetRef, Date.parse(t1))).toBe(true);
          // Times for the guest are in the location's zone (the harness location is Europe/London).
          expect(c.local.validFrom).toMatch(/[+-]\d{2}:\d{2}$/);
          if (c.firstUseBefore) expect(Date.parse(c.local.firstUseBefore!)).toBe(Date.parse(c.firstUseBefore));
        }
        // Provider-issued secrets are sealed at rest and never reach the audit log.
        const audit = JSON.stringify((await h.call('GET', '/v1/audit?limit=1000', undefined, h.keys.admin)).body);
        for (const c of creds) expect(audit).not.toContain(c.secret);
      }

      await book(t2, t3);
      await h.converge();
      expectCovered(await provider.holdings(p), t1, t3);
      if (fixture.personalPin) expect(await guestPin(p.id)).toBe(pin);
    });

    it('two bookings with a gap between them settle, and the first one is covered now', async () => {
      // Locks that store the PIN per entry refuse the same code twice; the engine must not loop on that.
      const [s1, e1, s2, e2] = [at(1), at(2), at(5), at(6)];
      const first = await book(s1, e1);
      const second = await book(s2, e2);
      await h.converge();
      // Once the engine is idle nothing is 'pending': the later booking is applied, or scheduled for
      // when the provider can hold it (one code per lock, or memberships without windows).
      const later = (await h.call('GET', `/v1/bookings/${second.id}/sync`, undefined, h.keys.admin)).body;
      expect(['applied', 'scheduled']).toContain(later.state);
      if (later.state === 'scheduled') for (const entry of later.entries) expect(Date.parse(entry.nextAttemptAt)).toBeLessThanOrEqual(Date.parse(s2));
      const held = await provider.holdings(await person(first.organiserId));
      for (const target of provider.targets.slice(0, 2)) {
        const from = Date.parse(s1) - BUFFER;
        const until = Date.parse(e1) + BUFFER;
        expect(held.some((g) => g.targetRef === target && g.from <= from && (g.until === null || g.until >= until)), `first booking on ${target}`).toBe(true);
      }
    });

    it('a moved booking updates the access window', async () => {
      const b = await book(at(1), at(2));
      await h.converge();
      const [s, e] = [at(fixture.startedWindowsOnly ? 1.25 : 5), at(7)];
      expect((await h.call('PATCH', `/v1/bookings/${b.id}`, { start: s, end: e }, h.keys.admin)).status).toBe(200);
      await h.converge();
      expectCovered(await provider.holdings(await person(b.organiserId)), s, e);
      if (!fixture.revocable) {
        // The code for the old window cannot be withdrawn: the audit log says so instead of pretending.
        const left = (await h.call('GET', `/v1/audit?subjectId=${b.organiserId}&action=access.left-valid`, undefined, h.keys.admin)).body.results;
        expect(left).toHaveLength(provider.targets.slice(0, 2).length);
      }
    });

    it('a drift check when nothing changed inside the provider changes nothing', async () => {
      const b = await book(at(1), at(2));
      await h.converge();
      // A moved grant too: some providers give an updated object a new id, which must not read as drift.
      expect((await h.call('PATCH', `/v1/bookings/${b.id}`, { end: at(3) }, h.keys.admin)).status).toBe(200);
      await h.converge();
      const moves = (await h.call('GET', `/v1/audit?subjectId=${b.organiserId}&action=access.changed`, undefined, h.keys.admin)).body.results.length;
      const before = provider.requestCount();
      await h.app.engine.scheduleDriftCheck();
      await h.converge();
      const audit = (await h.call('GET', `/v1/audit?subjectId=${b.organiserId}`, undefined, h.keys.admin)).body.results as { action: string }[];
      expect(audit.filter((a) => a.action.startsWith('drift.'))).toEqual([]);
      expect(audit.filter((a) => a.action === 'access.changed')).toHaveLength(moves);
      // Read-back only: a handful of reads, no writes repeated per target.
      expect(provider.requestCount() - before).toBeLessThan(10);
    });

    it('drift inside the provider is detected and repaired', async () => {
      const [s, e] = [at(1), at(2)];
      const b = await book(s, e);
      await h.converge();
      const p = await person(b.organiserId);
      await provider.removeBehindOurBack(p, 'one-grant');
      await h.app.engine.scheduleDriftCheck();
      await h.converge();
      expectCovered(await provider.holdings(p), s, e);
      await provider.removeBehindOurBack(p, 'everything');
      await h.app.engine.scheduleDriftCheck();
      await h.converge();
      expectCovered(await provider.holdings(p), s, e);
    });

    it('429, 5xx and dropped connections are retried until the access lands', async () => {
      provider.faults.add({ times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 1 } });
      provider.faults.add({ times: 2, fault: { kind: 'status', status: 503 } });
      provider.faults.add({ times: 1, fault: { kind: 'drop' } });
      const [s, e] = [at(1), at(2)];
      const b = await book(s, e);
      await h.converge(20_000);
      expectCovered(await provider.holdings(await person(b.organiserId)), s, e);
    });

    it('disconnect with "keep" leaves everything on the provider and stops managing it', async () => {
      const [s, e] = [at(1), at(2)];
      const b = await book(s, e);
      await h.converge();
      const p = await person(b.organiserId);
      const before = await provider.holdings(p);
      expect(before.length).toBeGreaterThan(0);
      const res = await h.call('POST', `/v1/integrations/${h.integrationId}/disconnect`, { mode: 'keep' });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('disconnected');
      // Cancelling afterwards must not reach the provider: it is no longer Lockstep's to manage.
      await h.call('POST', `/v1/bookings/${b.id}/cancel`, undefined, h.keys.admin);
      await h.converge();
      expect(await provider.holdings(p)).toEqual(before);
      const audit = (await h.call('GET', `/v1/audit?subjectId=${h.integrationId}&action=integration.disconnected`, undefined, h.keys.admin)).body.results;
      expect(audit[0].details).toMatchObject({ mode: 'keep', grantsLeftOnProvider: provider.targets.slice(0, 2).length });
    });

    it('invalid credentials give the admin a clear error and save nothing', async () => {
      const res = await h.call('POST', '/v1/integrations', { organisationId: h.organisationId, kind: provider.kind, name: 'Wrong', baseUrl: provider.baseUrl, credentials: provider.badCredentials });
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('connection_failed');
      expect(res.body.message).toMatch(/credential/i);
      for (const secret of Object.values(provider.badCredentials)) expect(JSON.stringify(res.body)).not.toContain(secret);
      const list = (await h.call('GET', `/v1/integrations?organisationId=${h.organisationId}`)).body.results;
      expect(list).toHaveLength(1);
    });

    if (fixture.revocable) {
      it('a cancellation revokes the access', async () => {
        const b = await book(at(1), at(2));
        await h.converge();
        await h.call('POST', `/v1/bookings/${b.id}/cancel`, undefined, h.keys.admin);
        await h.converge();
        expect(await provider.holdings(await person(b.organiserId))).toEqual([]);
      });

      it('disconnect with "revoke everything" cleans up the provider', async () => {
        const a = await book(at(1), at(2), 'a@example.com');
        const b = await book(at(3), at(4), 'b@example.com');
        await h.converge();
        const res = await h.call('POST', `/v1/integrations/${h.integrationId}/disconnect`, { mode: 'revoke' });
        expect(res.status).toBe(200);
        await h.converge();
        for (const id of [a.organiserId, b.organiserId]) expect(await provider.holdings(await person(id))).toEqual([]);
      });
    }

    if (!fixture.revocable) {
      it('a cancellation cannot withdraw an offline code: admin and audit log say it stays valid until it ends', async () => {
        const [s, e] = [at(1), at(2)];
        const b = await book(s, e);
        await h.converge();
        const creds = await guestCredentials(b.organiserId);
        expect(creds.length).toBeGreaterThan(0);
        await h.call('POST', `/v1/bookings/${b.id}/cancel`, undefined, h.keys.admin);
        await h.converge();
        const sync = (await h.call('GET', `/v1/bookings/${b.id}/sync`, undefined, h.keys.admin)).body;
        expect(sync.state).toBe('left-valid');
        for (const entry of sync.entries) expect(Date.parse(entry.validUntil)).toBeGreaterThanOrEqual(Date.parse(e));
        const audit = (await h.call('GET', `/v1/audit?subjectId=${b.organiserId}&action=access.left-valid`, undefined, h.keys.admin)).body.results;
        expect(audit).toHaveLength(provider.targets.slice(0, 2).length);
        expect(audit[0].details.why).toMatch(/cannot withdraw/);
        // The guest is no longer shown the code, and the engine does not pretend to have removed it.
        expect(await guestCredentials(b.organiserId)).toEqual([]);
        if (provider.credentialOpens) expect(await provider.credentialOpens(creds[0].secret, creds[0].targetRef, Date.parse(s))).toBe(true);
      });

      it('disconnect with "revoke everything" finishes and records the codes that stay valid', async () => {
        await book(at(1), at(2));
        await h.converge();
        expect((await h.call('POST', `/v1/integrations/${h.integrationId}/disconnect`, { mode: 'revoke' })).status).toBe(200);
        await h.converge();
        const integration = (await h.call('GET', `/v1/integrations/${h.integrationId}`, undefined, h.keys.admin)).body;
        expect(integration.status).toBe('disconnected');
        const done = (await h.call('GET', `/v1/audit?subjectId=${h.integrationId}&action=integration.disconnected`, undefined, h.keys.admin)).body.results;
        expect(done[0].details.stillValidCount).toBe(provider.targets.slice(0, 2).length);
      });
    }

    if (fixture.issuesCredentials) {
      it('a host asking for a new credential gets the guest a fresh one from the provider', async () => {
        const [s, e] = [at(1), at(3)];
        const b = await book(s, e);
        await h.converge();
        const before = await guestCredentials(b.organiserId);
        const res = await h.call('POST', `/v1/people/${b.organiserId}/pins/regenerate`, { integrationId: h.integrationId }, h.keys.host);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        await h.converge();
        const after = await guestCredentials(b.organiserId);
        expect(after).toHaveLength(before.length);
        for (const c of after) expect(before.map((o) => o.secret)).not.toContain(c.secret);
        if (provider.credentialOpens) {
          expect(await provider.credentialOpens(after[0].secret, after[0].targetRef, Date.parse(s))).toBe(true);
          // Revocable providers withdraw the old code; offline ones cannot, and say so.
          expect(await provider.credentialOpens(before[0].secret, before[0].targetRef, Date.parse(s))).toBe(!fixture.revocable);
        }
      });
    }

    if (fixture.personalPin) {
      it('PIN regeneration replaces the PIN on the provider', async () => {
        const s = hoursFromNow(-1);
        const b = await book(s, hoursFromNow(1));
        await h.converge();
        const p = await person(b.organiserId);
        const old = (await guestPin(p.id))!;
        expect((await h.call('POST', `/v1/people/${p.id}/pins/regenerate`, { integrationId: h.integrationId }, h.keys.host)).status).toBe(200);
        await h.converge();
        const fresh = (await guestPin(p.id))!;
        expect(fresh).not.toBe(old);
        if (provider.pinOpens) {
          expect(await provider.pinOpens(p, fresh, provider.targets[1], Date.now())).toBe(true);
          expect(await provider.pinOpens(p, old, provider.targets[1], Date.now())).toBe(false);
        }
      });
    }
  });
}
