/**
 * The out-of-the-box demo: a venue with a front door and two meeting rooms on the built-in demo
 * provider, and API keys written to data/demo-keys.json so the README walk-through can be pasted.
 * Idempotent: a restart reuses the venue and re-points the integration at the new emulator.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { App } from '../app.js';
import { newId } from '../store/ids.js';
import { createApiKey } from '../api/auth.js';
import { writeAudit } from '../store/audit.js';
import { DEFAULT_DEMO_ACCESS_GROUPS } from '../providers/demo/emulator.js';

export const DEMO_ORG_NAME = 'Demo Venue';
export const DEMO_API_KEY = 'demo-key';

export interface DemoKeys {
  organisationId: string;
  integrationId: string;
  locationId: string;
  spaces: { id: string; name: string }[];
  platformAdminKey: string;
  teamAdminKey: string;
  hostKey: string;
}

export async function bootstrapDemo(app: App, opts: { emulatorUrl: string; keysFile: string }): Promise<DemoKeys> {
  const db = app.store.db;
  const now = Date.now();
  let org = await db.selectFrom('organisations').selectAll().where('name', '=', DEMO_ORG_NAME).executeTakeFirst();
  if (!org) {
    org = { id: newId('org'), name: DEMO_ORG_NAME, createdAt: now };
    const orgId = org.id;
    const locationId = newId('loc');
    const integrationId = newId('int');
    const spaces = [
      { id: newId('sp'), name: 'Meeting room 1', kind: 'room', target: 'ag-meeting-1' },
      { id: newId('sp'), name: 'Meeting room 2', kind: 'room', target: 'ag-meeting-2' },
      { id: newId('sp'), name: 'Hot desk', kind: 'desk', target: 'ag-hot-desks' },
    ];
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('organisations').values(org!).execute();
      await trx.insertInto('locations').values({ id: locationId, organisationId: orgId, name: 'Main building', timeZone: 'Europe/London', createdAt: now }).execute();
      await trx
        .insertInto('integrations')
        .values({
          id: integrationId,
          organisationId: orgId,
          kind: 'demo',
          name: 'Demo door system',
          baseUrl: opts.emulatorUrl,
          credentialsEnc: app.secrets.seal(JSON.stringify({ apiKey: DEMO_API_KEY })),
          bufferBeforeMinutes: 15,
          bufferAfterMinutes: 15,
          pinLength: null,
          privacyMode: 0,
          mobileCredentials: 0,
          provisionAheadDays: 30,
          status: 'active',
          pausedUntil: null,
          lastError: null,
          lastErrorAt: null,
          createdAt: now,
        })
        .execute();
      for (const s of spaces) {
        await trx.insertInto('spaces').values({ id: s.id, organisationId: orgId, locationId, name: s.name, kind: s.kind, bufferBeforeMinutes: null, bufferAfterMinutes: null, createdAt: now }).execute();
        // Every space needs the front door as well as its own door.
        for (const target of ['ag-front-door', s.target]) {
          // Named as the demo door system names them, as a mapping made in the console would be.
          const targetName = DEFAULT_DEMO_ACCESS_GROUPS.find((g) => g.id === target)?.name ?? null;
          await trx.insertInto('mappings').values({ id: newId('map'), organisationId: orgId, spaceId: s.id, integrationId, targetRef: target, targetName, createdAt: now }).execute();
        }
      }
      await writeAudit(trx, { organisationId: orgId, actor: 'cli', action: 'demo.bootstrapped', subjectType: 'organisation', subjectId: orgId });
    });
  }

  const integration = await db.selectFrom('integrations').selectAll().where('organisationId', '=', org.id).where('kind', '=', 'demo').orderBy('createdAt').executeTakeFirstOrThrow();
  if (integration.baseUrl !== opts.emulatorUrl) {
    await db.updateTable('integrations').set({ baseUrl: opts.emulatorUrl }).where('id', '=', integration.id).execute();
  }
  const location = await db.selectFrom('locations').select('id').where('organisationId', '=', org.id).orderBy('createdAt').executeTakeFirstOrThrow();
  const spaces = await db.selectFrom('spaces').select(['id', 'name']).where('organisationId', '=', org.id).orderBy('name').execute();

  let keys: DemoKeys | null = null;
  try {
    const saved = JSON.parse(fs.readFileSync(opts.keysFile, 'utf8')) as DemoKeys;
    if (saved.organisationId === org.id) keys = { ...saved, integrationId: integration.id, spaces };
  } catch {
    keys = null;
  }
  if (!keys) {
    const platform = await createApiKey(db, app.secrets, { role: 'platform-admin', name: 'demo platform admin', organisationId: null, personId: null });
    const team = await createApiKey(db, app.secrets, { role: 'team-admin', name: 'demo team admin', organisationId: org.id, personId: null });
    const host = await createApiKey(db, app.secrets, { role: 'host', name: 'demo host', organisationId: org.id, personId: null });
    keys = { organisationId: org.id, integrationId: integration.id, locationId: location.id, spaces, platformAdminKey: platform.key, teamAdminKey: team.key, hostKey: host.key };
  }
  fs.mkdirSync(path.dirname(opts.keysFile), { recursive: true });
  fs.writeFileSync(opts.keysFile, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
  return keys;
}
