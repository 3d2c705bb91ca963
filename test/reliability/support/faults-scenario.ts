/**
 * Proof under faults, one provider at a time: with a seeded mix of 5xx answers, hanging requests
 * (client timeouts), dropped connections, 429 bursts with Retry-After and a provider that is down
 * for a while (connection refused, or every request 503), a venue's bookings are created, moved,
 * re-invited, moved between rooms and cancelled through the API. Then the faults stop, and Lockstep
 * must converge to exactly the desired state on the provider.
 *
 * Called from test/reliability/faults.<kind>.test.ts (one file per provider, so they run side by side).
 * The CI variant takes well under two minutes; the soak variant (LOCKSTEP_SOAK=1) runs hundreds of
 * operations with the provider down for minutes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../support/harness.js';
import type { StoreKind } from '../../support/stores.js';
import { startChaosProxy, type ChaosProxy, type DownMode, type FaultMix } from './chaos.js';
import { VenueModel, Workload } from './model.js';
import { reliabilityProviders, type ReliabilityKind, type ReliabilityProvider } from './providers.js';
import { SOAK, sleep, withSeed } from './random.js';
import { expectExactlyDesired, expectPinsOpen, settle } from './verify.js';

export interface FaultPlan {
  store: StoreKind;
  people: number;
  /** Bookings made (and synced) before the faults start, so moves and cancels hit applied access too. */
  initialBookings: number;
  /** API operations made while the faults are on. */
  operations: number;
  pauseMs: [number, number];
  mix: FaultMix;
  /** A 429 burst every so often: its size in requests and the gap before the next. */
  burstSize: [number, number];
  burstGapMs: [number, number];
  /** How long the provider is down (once, somewhere in the middle of the operations). */
  downMs: number;
  /** Faults stay on this long after the last operation. */
  tailMs: number;
  providerTimeoutMs: number;
  convergeMs: number;
  testTimeoutMs: number;
}

/** 10% 5xx, 5% timeouts, 1% dropped connections. */
const MIX: FaultMix = { serverError: 0.1, hang: 0.05, drop: 0.01 };

export const ciPlan: FaultPlan = {
  store: 'sqlite',
  people: 20,
  initialBookings: 16,
  operations: 80,
  pauseMs: [20, 250],
  mix: MIX,
  burstSize: [2, 6],
  burstGapMs: [700, 2_000],
  downMs: 4_000,
  tailMs: 2_000,
  providerTimeoutMs: 400,
  convergeMs: 60_000,
  testTimeoutMs: 110_000,
};

export const soakPlan: FaultPlan = {
  ...ciPlan,
  people: 60,
  initialBookings: 40,
  operations: 600,
  pauseMs: [50, 400],
  burstGapMs: [2_000, 8_000],
  downMs: 150_000,
  tailMs: 10_000,
  convergeMs: 300_000,
  testTimeoutMs: 20 * 60_000,
};

export function describeFaultScenario(kind: ReliabilityKind, file: string, store: StoreKind = 'sqlite'): void {
  const register = (label: string, plan: FaultPlan) =>
    describe(`${label}: ${kind} on ${store}`, () => {
      let provider: ReliabilityProvider | undefined;
      let chaos: ChaosProxy | undefined;
      let h: Harness | undefined;
      afterEach(async () => {
        await chaos?.calm().catch(() => {});
        await h?.close();
        await chaos?.close();
        await provider?.close();
      });

      it(
        `creates, moves and cancels ${plan.operations} times under 5xx, timeouts, 429 bursts and a ${Math.round(plan.downMs / 1000)} s outage, then converges to exactly the desired state`,
        () =>
          withSeed(`faults ${kind}`, file, async (r) => {
            const started = Date.now();
            provider = await reliabilityProviders[kind]();
            chaos = await startChaosProxy(provider.running, r.fork('chaos'));
            // What Lockstep itself saw fail (the engine logs every failed sync before it retries).
            const seen = { timeout: 0, serverError: 0, rateLimited: 0, refused: 0, dropped: 0 };
            const note = (obj: object) => {
              const error = String((obj as { error?: unknown }).error ?? '');
              if (/timed out/.test(error)) seen.timeout++;
              if (/HTTP 5\d\d/.test(error)) seen.serverError++;
              if (/rate limited/.test(error)) seen.rateLimited++;
              if (/connection refused/.test(error)) seen.refused++;
              if (/connection closed|network error/.test(error)) seen.dropped++;
            };
            h = await startHarness(store, {
              provider: { ...provider.running, baseUrl: chaos.url },
              engine: {
                providerTimeoutMs: plan.providerTimeoutMs,
                backoff: { baseMs: 25, maxMs: 400 },
                logger: { info() {}, warn: note, error: note },
              },
              notifier: { enabled: false },
              sources: { enabled: false },
            });
            const harness = h;
            const [t0, t1] = provider.running.targets;
            const model = new VenueModel();
            for (const targets of [[t0, t1], [t1], [t0]]) model.spaces.push({ id: await harness.space(targets), targets: { [harness.integrationId]: targets } });
            const work = new Workload((m, p, b) => harness.call(m, p, b, harness.keys.admin), model, r.fork('workload'));
            await work.addPeople(plan.people);
            for (let i = 0; i < plan.initialBookings; i++) await work.create();
            await settle(model, [harness.integrationId], () => harness.converge(30_000));
            const check = () => expectExactlyDesired({ provider: provider!, model, integrationId: harness.integrationId, db: harness.app.store.db });
            await check();
            const requestsBefore = provider.running.requestCount();

            // Faults on.
            const cr = r.fork('schedule');
            provider.running.faults.add({ fault: { kind: 'latency', ms: cr.int(1, 8) } });
            // One timeout and one 5xx for certain, then the random mix.
            provider.running.faults.add({ times: 1, fault: { kind: 'hang' } });
            provider.running.faults.add({ times: 1, fault: { kind: 'status', status: 502 } });
            chaos.setMix(plan.mix);
            let faulting = true;
            const bursts = (async () => {
              while (faulting) {
                await sleep(cr.int(...plan.burstGapMs));
                if (faulting && !chaos!.isDown()) chaos!.burst429(cr.int(...plan.burstSize), 1);
              }
            })();
            // The outage comes in the middle (the provider is back while faults go on), or at the end:
            // it is over only when the faults stop, with everything since it began still to do.
            const outageLast = cr.chance(0.5);
            const downAt = Math.floor(plan.operations * (outageLast ? 0.7 + 0.25 * cr.next() : 0.2 + 0.4 * cr.next()));
            const downMode: DownMode = cr.pick(['refused', 'all-503']);
            let outage: Promise<void> = Promise.resolve();
            for (let i = 0; i < plan.operations; i++) {
              if (i === downAt) {
                await chaos.down(downMode);
                outage = sleep(plan.downMs).then(() => (outageLast ? undefined : chaos!.up()));
              }
              await work.step();
              await sleep(cr.int(...plan.pauseMs));
            }
            await outage;
            if (!outageLast) await sleep(plan.tailMs);
            faulting = false;
            await bursts;
            await chaos.calm(); // also ends an outage that lasted until now
            const faultsOffAt = Date.now();

            // Faults off: it all converges, and the provider holds exactly what is desired.
            await settle(model, [harness.integrationId], () => harness.converge(plan.convergeMs));
            const convergedInMs = Date.now() - faultsOffAt;
            const inv = await check();
            const pinsChecked = await expectPinsOpen({
              provider,
              model,
              integrationId: harness.integrationId,
              guestPin: async (personId) => {
                const key = (await harness.call('POST', '/v1/api-keys', { role: 'guest', name: 'g', personId }, harness.keys.admin)).body.key;
                const pins = (await harness.call('GET', '/v1/me/pins', undefined, key)).body.results as { integrationId: string; pin: string }[];
                return pins.find((p) => p.integrationId === harness.integrationId)?.pin;
              },
            });

            // The faults really reached Lockstep (a run where none landed proves nothing).
            const s = chaos.stats;
            expect(s.outages, 'outages').toBe(1);
            expect(s.downMs).toBeGreaterThanOrEqual(plan.downMs - 50);
            expect(seen.timeout, 'syncs that failed on a timeout').toBeGreaterThan(0);
            expect(seen.serverError, 'syncs that failed on a 5xx').toBeGreaterThan(0);
            expect(seen.rateLimited, 'syncs that were rate limited').toBeGreaterThan(0);
            expect(downMode === 'refused' ? seen.refused : s.down503, 'requests that failed while the provider was down').toBeGreaterThan(0);

            console.log(
              `[reliability] faults ${kind}/${store}: ${JSON.stringify(work.counts)} on ${plan.people} people; ` +
                `${provider.running.requestCount() - requestsBefore} provider requests under faults and after; injected ${JSON.stringify(s)}; failed syncs seen ${JSON.stringify(seen)}; ` +
                `outage ${downMode} ${s.downMs} ms ${outageLast ? 'until the faults stopped' : 'mid-run'}; converged ${convergedInMs} ms after the faults stopped; ` +
                `${inv.grants.length} grants${inv.users ? ` on ${inv.users.length} users` : ''} exactly as desired; ${pinsChecked} PIN checks; total ${Date.now() - started} ms`,
            );
          }),
        plan.testTimeoutMs,
      );
    });

  register('faults', { ...ciPlan, store });
  // Registered only with LOCKSTEP_SOAK=1: without it there is no such test at all (not a skipped one).
  if (SOAK) register('soak: faults', { ...soakPlan, store });
}
