/**
 * The explainer's answer, once: the zod schema the API serves in /openapi.json (and checks its answers
 * against), and the TypeScript type the engine builds, inferred from it so the two cannot differ.
 */
import { z } from 'zod';

/** The links of the chain, in the order the explainer walks them. */
export const links = z.enum(['integration', 'mapping', 'booking', 'subscription', 'trigger', 'window', 'capacity', 'credential', 'sync', 'provider']);
const window = z.object({ from: z.string(), until: z.string().nullable() });

export const explanationSchema = z.object({
  at: z.string(),
  timeZone: z.string(),
  person: z.object({ id: z.string(), name: z.string() }),
  space: z.object({ id: z.string(), name: z.string() }).nullable(),
  verdict: z.object({ canEnter: z.boolean(), broken: links.nullable().describe('The link of the chain that breaks; null when the person can enter'), text: z.string() }),
  targets: z.array(
    z.object({
      integrationId: z.string(),
      integrationName: z.string(),
      provider: z.string(),
      targetRef: z.string(),
      targetName: z.string(),
      canEnter: z.boolean(),
      broken: links.nullable(),
      window: window.nullable(),
      way: z.string().nullable().describe('PIN, URL key, mobile key, or card or mobile credential'),
      chain: z.array(z.object({ link: links, ok: z.boolean(), says: z.string() })),
      pin: z.object({ issuedAt: z.string(), masked: z.string() }).nullable(),
      credentials: z.array(z.object({ kind: z.string(), validFrom: z.string().nullable(), validUntil: z.string().nullable(), firstUseBefore: z.string().nullable(), state: z.string() })),
      recorded: z.object({ user: z.string().nullable(), grants: z.array(z.object({ state: z.string(), from: z.string(), until: z.string().nullable() })) }),
      live: z.object({
        read: z.enum(['ok', 'failed', 'skipped']).describe('What the provider holds, read at the time of the request'),
        error: z.string().optional(),
        user: z.object({ hasPin: z.boolean().nullable() }).nullable().optional(),
        grants: z.array(window).optional(),
      }),
      sync: z.object({ dueAt: z.string(), attempts: z.number(), lastError: z.string().nullable(), running: z.boolean() }).nullable(),
      integration: z.object({ status: z.string(), lastError: z.string().nullable(), pausedUntil: z.string().nullable() }),
    }),
  ),
  bookings: z.array(
    z.object({ id: z.string(), title: z.string().nullable(), status: z.string(), role: z.string(), spaceId: z.string(), start: z.string(), end: z.string(), local: z.object({ start: z.string(), end: z.string() }) }),
  ),
  subscriptions: z.array(z.object({ id: z.string(), planName: z.string(), via: z.string(), start: z.string(), end: z.string().nullable(), cancelledAt: z.string().nullable(), opensThis: z.boolean() })),
});

export type Explanation = z.infer<typeof explanationSchema>;
