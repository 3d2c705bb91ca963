#!/usr/bin/env node
/**
 * `lockstep` command line: start the server, run migrations, create API keys, show sync status,
 * explain a person's access.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig } from '../config.js';
import { createApp } from '../app.js';
import { buildServer } from '../api/server.js';
import { createApiKey, roles, type Role } from '../api/auth.js';
import { newId } from '../store/ids.js';
import { startDemoEmulator } from '../providers/demo/emulator.js';
import { bootstrapDemo, DEMO_API_KEY } from './demo.js';
import { printStatus } from './status.js';
import { printExplanation, type ExplainCliOptions } from './explain.js';

const program = new Command();
program.name('lockstep').description('Keeps physical access in lockstep with bookings.').showHelpAfterError();

program
  .command('start')
  .description('Run the API server and the sync engine')
  .option('--demo', 'also run the built-in demo provider and a demo venue (what `npm start` does)')
  .option('--port <port>', 'API port (default LOCKSTEP_PORT or 3000)')
  .option('--host <host>', 'interface to listen on (default LOCKSTEP_HOST or 127.0.0.1)')
  .addOption(
    new Option('--role <role>', 'all: API and background work in one process; api: only the HTTP API (stateless, any number); worker: only the sync engine, e-mail, call-backs and feed polling (any number, PostgreSQL)')
      .choices(['all', 'api', 'worker'])
      .env('LOCKSTEP_ROLE')
      .default('all'),
  )
  .action(async (opts: { demo?: boolean; port?: string; host?: string; role: 'all' | 'api' | 'worker' }) => {
    const config = loadConfig();
    const port = opts.port !== undefined ? Number(opts.port) : config.port;
    const host = opts.host ?? config.host;
    const role = opts.role;
    if (role !== 'all' && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
      fail(`--role ${role} splits Lockstep over several processes, which share work through PostgreSQL; set LOCKSTEP_DATABASE_URL=postgres://… (the embedded SQLite store runs as one process: --role all)`);
    }
    if (role !== 'all' && opts.demo) fail('--demo runs the whole demo in one process; use it with --role all');
    const app = await createApp({
      databaseUrl: config.databaseUrl,
      secretKey: config.secretKey,
      keyFile: config.keyFile,
      engine: { driftCheckMs: config.driftCheckMinutes * 60_000, leaseMs: config.claimLeaseSeconds * 1000, laneSize: config.laneSize },
      notifier: { smtpUrl: config.smtpUrl, smsGatewayUrl: config.smsGatewayUrl, smsGatewayToken: config.smsGatewayToken, from: config.mailFrom, alertTo: config.alertEmails, graceMs: config.notifyGraceSeconds * 1000 },
    });
    const server = await buildServer(app, {
      trustProxy: config.trustProxy,
      logger: {
        level: config.logLevel,
        redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
      },
    });
    const log = server.log;
    const emulator = opts.demo ? await startDemoEmulator({ port: config.demoPort, host: '127.0.0.1', apiKey: DEMO_API_KEY }) : null;
    const keysFile = path.join(path.dirname(config.keyFile), 'demo-keys.json');
    const demo = emulator ? await bootstrapDemo(app, { emulatorUrl: emulator.url, keysFile }) : null;
    if (role !== 'api') {
      app.engine.useLogger(log);
      app.notifier.useLogger(log);
      app.callbacks.useLogger(log);
      app.sources.useLogger(log);
      await app.startBackground();
    }
    // The demo emulator starts empty each run: read back what we think it holds and repair it.
    if (demo) await app.engine.scheduleDriftCheck();
    let address = '';
    if (role === 'worker') {
      log.info({ store: app.store.describe, mail: app.notifier.deliveryDescription, worker: app.engine.workerId }, 'Lockstep worker running (no HTTP API in this process)');
    } else {
      address = await server.listen({ port, host });
      log.info({ store: app.store.describe, role, ...(role === 'all' ? { mail: app.notifier.deliveryDescription } : {}) }, `Lockstep listening on ${address}`);
    }
    if (demo && emulator) {
      console.log(
        [
          '',
          `  Lockstep is running at ${address}  (OpenAPI: ${address}/openapi.json)`,
          `  Web console and guest portal: ${address}/web  (log in with a key below; e-mails land in its Outbox)`,
          `  Demo door system (emulated provider) at ${emulator.url}  (state: ${emulator.url}/_emulator/state)`,
          `  Keys and ids for the README walk-through: ${keysFile}`,
          `    platform admin key:  ${demo.platformAdminKey}`,
          `    team admin key:      ${demo.teamAdminKey}`,
          `    host key:            ${demo.hostKey}`,
          `    space (Meeting room 1): ${demo.spaces.find((s) => s.name === 'Meeting room 1')?.id}`,
          '',
        ].join('\n'),
      );
    }
    const shutdown = async (signal: string) => {
      log.info(`${signal}: shutting down`);
      await server.close();
      await app.close();
      await emulator?.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
  });

program
  .command('migrate')
  .description('Create or upgrade the database schema')
  .action(async () => {
    const config = loadConfig();
    const app = await createApp({ databaseUrl: config.databaseUrl, secretKey: config.secretKey, keyFile: config.keyFile });
    console.log(`schema is up to date (${app.store.describe})`);
    await app.close();
  });

const org = program.command('org').description('Organisations (venues)');
org
  .command('create')
  .description('Create an organisation and print its id')
  .requiredOption('--name <name>', 'organisation name')
  .action(async (opts: { name: string }) => {
    const config = loadConfig();
    const app = await createApp({ databaseUrl: config.databaseUrl, secretKey: config.secretKey, keyFile: config.keyFile });
    const id = newId('org');
    await app.store.db.insertInto('organisations').values({ id, name: opts.name, createdAt: Date.now() }).execute();
    console.log(id);
    await app.close();
  });

const apiKey = program.command('api-key').description('API keys');
apiKey
  .command('create')
  .description('Create an API key and print it (it is shown only once)')
  .addOption(new Option('--role <role>', 'role of the key').choices([...roles]).makeOptionMandatory())
  .option('--name <name>', 'what the key is for', 'cli')
  .option('--org <organisationId>', 'organisation (required except for platform-admin)')
  .option('--person <personId>', 'person the key speaks for (guest keys)')
  .action(async (opts: { role: Role; name: string; org?: string; person?: string }) => {
    if (opts.role !== 'platform-admin' && !opts.org) fail(`--org is required for a ${opts.role} key (create one with \`lockstep org create --name …\`)`);
    if (opts.role === 'guest' && !opts.person) fail('--person is required for a guest key');
    await withApp(async (app) => {
      if (opts.org) {
        const found = await app.store.db.selectFrom('organisations').select('id').where('id', '=', opts.org).executeTakeFirst();
        if (!found) fail(`organisation ${opts.org} does not exist`);
      }
      const key = await createApiKey(app.store.db, app.secrets, {
        role: opts.role,
        name: opts.name,
        organisationId: opts.role === 'platform-admin' ? null : opts.org!,
        personId: opts.person ?? null,
      });
      console.log(key.key);
    });
  });

program
  .command('status')
  .description('Show sync status: per integration, or for one booking')
  .option('--booking <bookingId>', 'show the access status of one booking')
  .action((opts: { booking?: string }) => withApp(async (app) => void (process.exitCode = await printStatus(app, opts))));

program
  .command('explain')
  .description("Why can (or can't) a person get in? Walks booking → mapping → window → credential → provider, read live")
  .requiredOption('--person <personId>', 'the person')
  .option('--space <spaceId>', 'the space they want to enter')
  .option('--target <targetRef>', 'or the access target (door, group, lock) on the provider')
  .option('--integration <integrationId>', 'with --target: which integration it is on')
  .option('--at <instant>', 'the moment, ISO-8601 with offset (default now)')
  .option('--json', 'print the same JSON as GET /v1/access/explain')
  .action((opts: ExplainCliOptions) => withApp(async (app) => void (process.exitCode = await printExplanation(app, opts))));

/** For the one-shot commands: the configured store opened, `run`, and closed again whatever happens. */
async function withApp(run: (app: Awaited<ReturnType<typeof createApp>>) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const app = await createApp({ databaseUrl: config.databaseUrl, secretKey: config.secretKey, keyFile: config.keyFile });
  try {
    await run(app);
  } finally {
    await app.close();
  }
}

function fail(message: string): never {
  console.error(`lockstep: ${message}`);
  process.exit(1);
}

program.parseAsync(process.argv).catch((err: Error) => {
  console.error(`lockstep: ${err.message}`);
  process.exit(1);
});
