/**
 * Composition root: opens the store, runs migrations and wires the engine. The HTTP server, the CLI
 * and the tests all start from here, so they run the same Lockstep.
 */
import { openStore, type Store } from './store/db.js';
import { WorkQueue } from './store/work.js';
import { SecretBox, loadMasterKey } from './security/crypto.js';
import { PinService } from './engine/pins.js';
import { SyncEngine, type EngineOptions } from './engine/runner.js';
import { ChangeFeed } from './engine/changes.js';

export interface AppOptions {
  databaseUrl: string;
  secretKey?: string;
  keyFile?: string;
  engine?: Partial<Omit<EngineOptions, 'db' | 'queue' | 'secrets' | 'pins'>>;
}

export interface App {
  store: Store;
  secrets: SecretBox;
  queue: WorkQueue;
  pins: PinService;
  engine: SyncEngine;
  changes: ChangeFeed;
  close(): Promise<void>;
}

export async function createApp(options: AppOptions): Promise<App> {
  const secrets = new SecretBox(loadMasterKey({ envValue: options.secretKey, keyFile: options.keyFile }));
  const store = openStore(options.databaseUrl);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  const queue = new WorkQueue(store.db, store.dialect);
  const pins = new PinService(store.db, secrets);
  const engine = new SyncEngine({ db: store.db, queue, secrets, pins, ...options.engine });
  const changes = new ChangeFeed(store.db, queue, () => engine.wake());
  return {
    store,
    secrets,
    queue,
    pins,
    engine,
    changes,
    async close() {
      await engine.stop();
      await store.close();
    },
  };
}
