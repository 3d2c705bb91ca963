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
import { Notifier, type NotifierSettings } from './notify/notifier.js';
import { smtpTransport } from './notify/transport.js';

export interface AppOptions {
  databaseUrl: string;
  secretKey?: string;
  keyFile?: string;
  engine?: Partial<Omit<EngineOptions, 'db' | 'queue' | 'secrets' | 'pins'>>;
  /**
   * E-mail notifications. `smtpUrl` unset: messages are kept in the local outbox. The notifier is
   * created always (the outbox API needs it) and runs once `app.notifier.start()` is called.
   */
  notifier?: Partial<Omit<NotifierSettings, 'transport'>> & { smtpUrl?: string };
}

export interface App {
  store: Store;
  secrets: SecretBox;
  queue: WorkQueue;
  pins: PinService;
  engine: SyncEngine;
  changes: ChangeFeed;
  notifier: Notifier;
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
  const { smtpUrl, ...notifierSettings } = options.notifier ?? {};
  const notifier = new Notifier({ db: store.db, secrets, pins }, { ...notifierSettings, transport: smtpUrl ? smtpTransport(smtpUrl) : null });
  const onSynced = options.engine?.onSynced;
  const engine = new SyncEngine({
    db: store.db,
    queue,
    secrets,
    pins,
    ...options.engine,
    // A finished sync may be what a waiting e-mail was waiting for.
    onSynced: (event) => {
      onSynced?.(event);
      notifier.wake();
    },
  });
  const changes = new ChangeFeed(store.db, queue, () => {
    engine.wake();
    notifier.wake();
  });
  return {
    store,
    secrets,
    queue,
    pins,
    engine,
    changes,
    notifier,
    async close() {
      await notifier.stop();
      await engine.stop();
      await store.close();
    },
  };
}
