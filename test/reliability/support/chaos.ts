/**
 * Seeded fault injection for a provider emulator.
 *
 * The emulator kit's fault rules (src/providers/emulator-kit.ts) apply in order to the next matching
 * requests, which is what a scripted test wants but not a random mix. So Lockstep talks to the
 * emulator through this small forwarding proxy, which decides per request, from the seed, whether
 * that request fails, and if so arms the matching emulator rule (`times: 1`, method + path) just
 * before forwarding it: the fault itself — the 5xx, the hang, the dropped socket, the 429 with
 * Retry-After — is the emulator's own. Only "the provider is down, connection refused" is the proxy's
 * doing: it stops listening (and cuts open connections), so new connections are refused by the OS.
 *
 * Several requests to the same route can race for one armed rule; the rate of faults stays the same,
 * only which of them gets it may differ — timing is not replayable anyway, the plan is.
 */
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FaultKind, FaultRule } from '../../../src/providers/emulator-kit.js';
import type { Rng } from './random.js';

export interface FaultMix {
  /** Share of requests answered with a 5xx (500/502/503/504). */
  serverError: number;
  /** Share of requests that never get an answer (the client's timeout fires). */
  hang: number;
  /** Share of requests whose connection is dropped without an answer. */
  drop: number;
}

export type DownMode = 'refused' | 'all-503';

export interface ChaosStats {
  forwarded: number;
  serverError: number;
  hang: number;
  drop: number;
  /** Requests answered 503 while down in 'all-503' mode. */
  down503: number;
  /** 429 bursts armed, and the requests they cover. */
  bursts: number;
  burstRequests: number;
  /** Times the provider went down, and for how long in total. */
  outages: number;
  downMs: number;
  /**
   * Requests about one provider user (demo user, Gallagher cardholder) that arrived while another
   * about the same user was still open, where one sync never sends both at once: anything about the
   * user's own record (create, read, PIN, delete) beside anything else about that user, or two
   * requests about one of the user's doors. (A sync sends a person's grants on different doors side
   * by side where the provider keeps each as its own resource, the demo's memberships; on Gallagher
   * every request is about the cardholder.) So an overlap means two syncs of one person ran at once.
   */
  overlaps: number;
  overlapSamples: string[];
}

/** A write that went through the proxy (kept for failure messages; bodies may hold PINs, tests only). */
export interface ProxiedWrite {
  at: number;
  method: string;
  path: string;
  body: string;
  status: number | null;
}

export interface ChaosProxy {
  /** Point the integration here instead of at the emulator. */
  url: string;
  stats: ChaosStats;
  /** Every non-GET request and its answer's status (null: no answer). */
  writes: ProxiedWrite[];
  /** Random per-request faults from now on (null: none). */
  setMix(mix: FaultMix | null): void;
  /** The next `requests` requests get 429 with Retry-After (the emulator's rule). */
  burst429(requests: number, retryAfterSeconds: number): void;
  /** The provider goes down: connections refused, or every request answered 503. */
  down(mode: DownMode): Promise<void>;
  up(): Promise<void>;
  isDown(): boolean;
  /** Everything back to normal: no mix, up, and every emulator rule cleared. */
  calm(): Promise<void>;
  close(): Promise<void>;
}

export async function startChaosProxy(target: { baseUrl: string; faults: { add(rule: FaultRule): void; clear(): void } }, r: Rng): Promise<ChaosProxy> {
  const upstream = new URL(target.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const stats: ChaosStats = { forwarded: 0, serverError: 0, hang: 0, drop: 0, down503: 0, bursts: 0, burstRequests: 0, outages: 0, downMs: 0, overlaps: 0, overlapSamples: [] };
  /** Per user: the requests open now, each with its topic ('user', or the door a grant request is about). */
  const open = new Map<string, { topic: string; what: string; since: number }[]>();
  /** Demo membership id → its access group, learned from the emulator's answers. */
  const doorOfMembership = new Map<string, string>();
  const writes: ProxiedWrite[] = [];
  let mix: FaultMix | null = null;
  let downMode: DownMode | null = null;
  let downSince = 0;
  const sockets = new Set<net.Socket>();

  const arm = (method: string, path: string, fault: FaultKind) => target.faults.add({ times: 1, match: { method, path }, fault });

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const path = rawUrl.split('?')[0];
    if (!path.startsWith('/_emulator/')) {
      if (downMode === 'all-503') {
        arm(method, path, { kind: 'status', status: 503 });
        stats.down503++;
      } else if (mix) {
        const roll = r.next();
        if (roll < mix.serverError) {
          arm(method, path, { kind: 'status', status: r.pick([500, 502, 503, 504]) });
          stats.serverError++;
        } else if (roll < mix.serverError + mix.hang) {
          arm(method, path, { kind: 'hang' });
          stats.hang++;
        } else if (roll < mix.serverError + mix.hang + mix.drop) {
          arm(method, path, { kind: 'drop' });
          stats.drop++;
        }
      }
    }
    stats.forwarded++;
    let write: ProxiedWrite | null = null;
    if (method !== 'GET' && !path.startsWith('/_emulator/') && writes.length < 50_000) {
      write = { at: Date.now(), method, path, body: '', status: null };
      writes.push(write);
    }
    // The body, for the overlap count (a membership's door) and the record of writes.
    let body = '';
    req.on('data', (c: Buffer) => {
      if (body.length >= 4_000) return;
      body += c.toString();
      if (write) write.body = body.slice(0, 2_000);
    });
    const subject = /^\/api\/(?:users|cardholders)\/([^/?]+)/.exec(path)?.[1];
    const membership = /^\/api\/users\/[^/]+\/memberships(?:\/([^/?]+))?$/.exec(path);
    if (subject) {
      const what = `${method} ${path}`;
      const since = Date.now();
      let entry: { topic: string; what: string; since: number } | null = null;
      req.on('end', () => {
        const topic = requestTopic(method, membership, body, doorOfMembership);
        const list = open.get(subject) ?? [];
        const clash = list.find((o) => topic === 'user' || o.topic === 'user' || o.topic === topic);
        if (clash) {
          stats.overlaps++;
          if (stats.overlapSamples.length < 20) stats.overlapSamples.push(`${new Date().toISOString().slice(11, 23)} ${what} while ${clash.what} (open ${since - clash.since} ms)`);
        }
        entry = { topic, what, since };
        list.push(entry);
        open.set(subject, list);
      });
      res.on('close', () => {
        const list = open.get(subject);
        if (list && entry) list.splice(list.indexOf(entry), 1);
      });
    }
    const up = http.request(
      { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method, path: rawUrl, headers: req.headers, agent },
      (upRes) => {
        if (write) write.status = upRes.statusCode ?? null;
        if (membership && (method === 'POST' || method === 'GET')) learnDoors(upRes, doorOfMembership);
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    // The emulator dropped the connection: so do we, so the client sees a dropped connection too.
    up.on('error', () => res.socket?.destroy());
    // The client gave up (its timeout): stop waiting upstream, so a hung request is released there too.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };

  let server: http.Server;
  let port = 0;
  const listen = async () => {
    server = http.createServer(handler);
    server.keepAliveTimeout = 3_000;
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (err) {
        // The port we give back when "down" could be taken meanwhile; wait for it.
        if (attempt > 50) throw err;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    port = (server.address() as AddressInfo).port;
  };
  const stopListening = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await listen();

  const proxy: ChaosProxy = {
    url: `http://127.0.0.1:${port}`,
    stats,
    writes,
    setMix(m) {
      mix = m;
    },
    burst429(requests, retryAfterSeconds) {
      target.faults.add({ times: requests, fault: { kind: 'status', status: 429, retryAfterSeconds } });
      stats.bursts++;
      stats.burstRequests += requests;
    },
    async down(mode) {
      if (downMode) return;
      downMode = mode;
      downSince = Date.now();
      stats.outages++;
      if (mode === 'refused') await stopListening();
    },
    async up() {
      if (!downMode) return;
      const was = downMode;
      downMode = null;
      stats.downMs += Date.now() - downSince;
      if (was === 'refused') await listen();
    },
    isDown: () => downMode !== null,
    async calm() {
      mix = null;
      await proxy.up();
      target.faults.clear();
    },
    async close() {
      mix = null;
      if (downMode !== 'refused') await stopListening();
      downMode = null;
      agent.destroy();
    },
  };
  return proxy;
}

/**
 * What a request is about, for the overlap count: 'user' for the user's own record, else the door
 * (access group) of a demo membership request. A membership whose door is not known yet counts as
 * 'user', so it clashes with everything: the count never misses an overlap for want of knowledge.
 */
function requestTopic(method: string, membership: RegExpExecArray | null, body: string, doorOfMembership: Map<string, string>): string {
  if (!membership) return 'user';
  if (method === 'POST') {
    try {
      const group = (JSON.parse(body) as { accessGroupId?: unknown }).accessGroupId;
      return typeof group === 'string' ? `door:${group}` : 'user';
    } catch {
      return 'user';
    }
  }
  const id = membership[1];
  const door = id ? doorOfMembership.get(id) : undefined;
  return (method === 'PATCH' || method === 'DELETE') && door ? `door:${door}` : 'user';
}

/** Reads membership ids and their access groups from a demo answer (one membership, or a list). */
function learnDoors(res: http.IncomingMessage, doorOfMembership: Map<string, string>): void {
  let text = '';
  res.on('data', (c: Buffer) => {
    if (text.length < 200_000) text += c.toString();
  });
  res.on('end', () => {
    try {
      const body = JSON.parse(text) as { id?: string; accessGroupId?: string; results?: { id?: string; accessGroupId?: string }[] };
      for (const m of body.results ?? [body]) if (m.id && m.accessGroupId) doorOfMembership.set(m.id, m.accessGroupId);
    } catch {
      /* not JSON (an injected fault's answer): nothing to learn */
    }
  });
}
