/**
 * Composition root: opens the store, runs migrations and wires the engine. The HTTP server, the CLI
 * and the tests all start from here, so they run the same Lockstep.
 */
import { sql } from 'kysely';
import { openStore, type Store } from './store/db.js';
import { WorkQueue } from './store/work.js';
import { SecretBox, loadMasterKey } from './security/crypto.js';
import { PinService } from './engine/pins.js';
import { SyncEngine, type EngineOptions } from './engine/runner.js';
import { TokenBuckets, WindowCounters } from './store/rate-limits.js';
import { loadLimits, type Limits } from './security/limits.js';
import { ChangeFeed, WORK_CHANNEL } from './engine/changes.js';
import { ApiKeys, KEYS_CHANNEL } from './api/auth.js';
import { Notifier, type NotifierSettings } from './notify/notifier.js';
import { smtpTransport } from './notify/transport.js';
import { httpSmsGateway } from './notify/sms.js';
import { CallbackDispatcher, type CallbackSettings } from './callbacks/dispatcher.js';
import { FeedPoller, type FeedPollerSettings } from './sources/ical/poller.js';

export interface AppOptions {
  databaseUrl: string;
  secretKey?: string;
  keyFile?: string;
  engine?: Partial<Omit<EngineOptions, 'db' | 'queue' | 'secrets' | 'pins'>>;
  /**
   * E-mail notifications. `smtpUrl` unset: messages are kept in the local outbox. The notifier is
   * created always (the outbox API needs it) and runs once `app.notifier.start()` is called.
   */
  notifier?: Partial<Omit<NotifierSettings, 'transport' | 'sms'>> & { smtpUrl?: string; smsGatewayUrl?: string; smsGatewayToken?: string };
  /** Change call-backs (/v1/callbacks); run once `app.callbacks.start()` is called. */
  callbacks?: Partial<CallbackSettings>;
  /** iCal feed poller; runs once `app.sources.start()` is called. */
  sources?: Partial<Omit<FeedPollerSettings, 'logger'>>;
  /** Brute-force limits; default from the environment (src/security/limits.ts). */
  limits?: Partial<Limits>;
}

export interface App {
  store: Store;
  secrets: SecretBox;
  queue: WorkQueue;
  pins: PinService;
  engine: SyncEngine;
  changes: ChangeFeed;
  notifier: Notifier;
  /** Signed booking-change call-backs to subscribed external systems. */
  callbacks: CallbackDispatcher;
  /** Polls booking feeds (iCal sources); `wake()` after a source is added or changed. */
  sources: FeedPoller;
  /** API keys: who a key speaks for (remembered briefly), and revoking one everywhere. */
  apiKeys: ApiKeys;
  /** Store-backed attempt counters (brute-force limits that hold across API nodes). */
  counters: WindowCounters;
  limits: Limits;
  /**
   * Starts the background work of a worker process: the sync engine, e-mail, call-backs and feed
   * polling, and (PostgreSQL) listening for changes announced by other processes.
   */
  startBackground(): Promise<void>;
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
  // On PostgreSQL every queued change is also announced (NOTIFY, delivered at commit) to worker processes.
  const queue = new WorkQueue(store.db, store.dialect, store.dialect === 'postgres' ? WORK_CHANNEL : undefined);
  const pins = new PinService(store.db, secrets);
  // PINs issued before prefix clashes were checked get their prefixes indexed (once; a no-op after).
  await pins.indexOlderPins();
  const { smtpUrl, smsGatewayUrl, smsGatewayToken, ...notifierSettings } = options.notifier ?? {};
  const notifier = new Notifier(
    { db: store.db, secrets, pins },
    { ...notifierSettings, transport: smtpUrl ? smtpTransport(smtpUrl) : null, sms: smsGatewayUrl ? httpSmsGateway(smsGatewayUrl, smsGatewayToken) : null },
  );
  const onSynced = options.engine?.onSynced;
  const engine = new SyncEngine({
    db: store.db,
    queue,
    secrets,
    pins,
    buckets: new TokenBuckets(store.db, store.dialect),
    ...options.engine,
    // A finished sync may be what a waiting e-mail was waiting for.
    onSynced: (event) => {
      onSynced?.(event);
      notifier.wake();
    },
  });
  const callbacks = new CallbackDispatcher({ db: store.db, secrets }, options.callbacks);
  const wakeLoops = () => {
    engine.wake();
    notifier.wake();
    callbacks.wake();
  };
  const changes = new ChangeFeed(store.db, queue, wakeLoops);
  let stopListening: (() => Promise<void>) | null = null;
  const app: App = {
    store,
    secrets,
    queue,
    pins,
    engine,
    changes,
    notifier,
    callbacks,
    apiKeys: new ApiKeys(store.db, secrets, {
      ...(store.dialect === 'postgres' ? { announceRevoke: async () => void (await sql`select pg_notify(${KEYS_CHANNEL}, '')`.execute(store.db)) } : {}),
    }),
    counters: new WindowCounters(store.db),
    limits: { ...loadLimits(), ...options.limits },
    sources: null as unknown as FeedPoller, // set below: the poller writes through the app
    async startBackground() {
      await engine.start({ releaseStaleClaims: store.dialect === 'sqlite' });
      notifier.start();
      callbacks.start();
      app.sources.start();
      // API nodes in other processes announce their changes; wake up for them at once.
      if (store.listen && !stopListening) stopListening = await store.listen(WORK_CHANNEL, wakeLoops);
    },
    async close() {
      await stopListening?.();
      await app.sources.stop();
      await callbacks.stop();
      await notifier.stop();
      await engine.stop();
      await store.close();
    },
  };
  app.sources = new FeedPoller(app, options.sources);
  return app;
}
