/**
 * An emulator of igloohome's cloud API for algoPINs: two HTTP servers, like the real two hosts —
 * the OAuth2 token endpoint (auth.igloohome.co) and the API (api.igloodeveloper.co/igloohome, built
 * on the emulator kit, so fault injection, stats and /_emulator/* come with it).
 *
 * It enforces igloohome's published algoPIN rules (see notes.md): whole-hour dates with an explicit
 * offset, hourly PINs of 1–672 hours, daily PINs of 29–367 days starting and ending at the same time
 * of day, variance 1–3 (1–5 for one-time PINs), accessName up to 60 characters. The same request gives
 * the same PIN (algoPINs are computed, not stored). PINs are never returned by any route other than the
 * one that issues them, nor by the state dump; tests check them with `state.canEnter()`.
 *
 * The keypad model (`state.canEnter` / `state.enter`) applies the lock's offline rules: a PIN opens only
 * inside its validity, any number of times, and one valid for 24 hours or more must be used for the first
 * time within 24 hours of its start; a one-time PIN opens once within 24 hours of its start.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmulatorHttpError, startEmulatorServer, type EmulatorResponse,type FaultRule, type EmulatorControls } from '../emulator-kit.js';
import { ACTIVATION_WINDOW_MS, DAY_MS, HOUR_MS, MAX_DAILY_DAYS, MAX_HOURLY_HOURS, MIN_DAILY_DAYS, needsActivation } from './algopin.js';

export type { FaultRule } from '../emulator-kit.js';

export type IgloohomePinType = 'hourly' | 'daily' | 'onetime' | 'permanent';

export interface IgloohomeDevice {
  id: string;
  type: string;
  deviceId: string;
  deviceName: string;
  pairedAt: string;
  homeId: string[];
  linkedDevices: { type: string; deviceId: string }[];
  batteryLevel: number;
}

/** An issued algoPIN as the emulator records it; never contains the PIN itself. */
export interface IgloohomePinRecord {
  pinId: string;
  deviceId: string;
  type: IgloohomePinType;
  variance: number;
  accessName: string;
  validFrom: number;
  /** null for a permanent PIN */
  validUntil: number | null;
  firstUsedAt: number | null;
  /** one-time PINs: used up */
  spent: boolean;
}

export interface IgloohomeClientCredentials {
  clientId: string;
  clientSecret: string;
  /** Scopes this client may have; default all. */
  scopes?: string[];
}

export interface IgloohomeEmulatorOptions {
  port?: number;
  authPort?: number;
  host?: string;
  clients?: IgloohomeClientCredentials[];
  devices?: IgloohomeDevice[];
  tokenTtlSeconds?: number;
  /** Seeds the PIN algorithm: same seed + same request = same PIN. */
  seed?: string;
  /** Devices per GET /devices page. */
  pageSize?: number;
}

export interface IgloohomeEmulatorState {
  devices(): IgloohomeDevice[];
  pins(filter?: { deviceId?: string; accessName?: string }): IgloohomePinRecord[];
  /** Keypad model, pure: would `pin` open `lockId` at `at`? `firstUseAt` overrides the recorded first use. */
  canEnter(lockId: string, pin: string, at?: number, firstUseAt?: number): boolean;
  /** Keypad model with effect: enters the PIN at `at`, recording the first use (and spending a one-time PIN). */
  enter(lockId: string, pin: string, at?: number): boolean;
  /** Invalidates every access token (as when a token expires), to exercise token refresh. */
  expireTokens(): void;
  tokenRequests(): number;
}

export interface IgloohomeEmulator extends EmulatorControls {
  /** Origin of the API server; the API itself is under `${url}/igloohome`. */
  url: string;
  apiUrl: string;
  tokenUrl: string;
  state: IgloohomeEmulatorState;
}

export const ALL_SCOPES = [
  'igloohomeapi/get-devices',
  'igloohomeapi/algopin-hourly',
  'igloohomeapi/algopin-daily',
  'igloohomeapi/algopin-permanent',
  'igloohomeapi/algopin-onetime',
];

export const DEFAULT_IGLOOHOME_DEVICES: readonly IgloohomeDevice[] = Object.freeze([
  { id: 'a1f0c2d4-0001', type: 'Lock', deviceId: 'IGM3011a2b3c', deviceName: 'Front door', pairedAt: '2025-03-01T09:00:00.000Z', homeId: ['home-1'], linkedDevices: [], batteryLevel: 87 },
  { id: 'a1f0c2d4-0002', type: 'Lock', deviceId: 'IGP2024d5e6f', deviceName: 'Meeting room padlock', pairedAt: '2025-03-01T09:05:00.000Z', homeId: ['home-1'], linkedDevices: [], batteryLevel: 64 },
  { id: 'a1f0c2d4-0003', type: 'Keypad', deviceId: 'IGK345a7b8c9', deviceName: 'Studio keypad', pairedAt: '2025-03-02T10:00:00.000Z', homeId: ['home-1'], linkedDevices: [{ type: 'Lock', deviceId: 'IGM3011a2b3c' }], batteryLevel: 91 },
  { id: 'a1f0c2d4-0004', type: 'Bridge', deviceId: 'IGB4000d1e2f', deviceName: 'Bridge', pairedAt: '2025-03-02T10:10:00.000Z', homeId: ['home-1'], linkedDevices: [{ type: 'Lock', deviceId: 'IGM3011a2b3c' }], batteryLevel: 100 },
]);

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):(\d{2})$/;
const MAX_ACCESS_NAME = 60;

const bad = (message: string) => new EmulatorHttpError(400, 'bad_request', message);

/** igloohome's strict date: `YYYY-MM-DDTHH:00:00±hh:mm`. Returns the instant and the wall-clock time in its offset. */
function parseAlgoDate(value: unknown, field: string): { ms: number; local: number } {
  if (value === undefined || value === null || value === '') throw bad(`${field} is required`);
  if (typeof value !== 'string') throw bad(`${field} must be a string like 2026-01-31T09:00:00+01:00`);
  const m = DATE_RE.exec(value);
  if (!m) throw bad(`${field} must be in the format YYYY-MM-DDTHH:00:00+hh:mm (with a time-zone offset)`);
  const [, y, mo, d, h, mi, s, sign, oh, om] = m;
  if (mi !== '00' || s !== '00') throw bad(`${field} must be on the hour (minutes and seconds 00)`);
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h));
  const back = new Date(local);
  if (back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || Number(h) > 23 || Number(oh) > 14 || Number(om) > 59) {
    throw bad(`${field} is not a valid date-time`);
  }
  const offsetMs = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return { ms: local - offsetMs, local };
}

function parseVariance(value: unknown, max: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (value === undefined || value === null) throw bad('variance is required');
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) throw bad(`variance must be an integer from 1 to ${max}`);
  return n;
}

function parseAccessName(value: unknown): string {
  if (value === undefined || value === null || value === '') throw bad('accessName is required');
  if (typeof value !== 'string') throw bad('accessName must be a string');
  if (value.length > MAX_ACCESS_NAME) throw bad(`accessName can contain up to ${MAX_ACCESS_NAME} characters`);
  return value;
}

interface Slot {
  type: IgloohomePinType;
  variance: number;
  validFrom: number;
  validUntil: number | null;
}

/** Validates one algoPIN request body per type; returns the slot it asks for. */
function parseSlot(type: IgloohomePinType, body: Record<string, unknown>): Slot {
  const variance = parseVariance(body.variance, type === 'onetime' ? 5 : 3);
  const start = parseAlgoDate(body.startDate, 'startDate');
  if (type === 'onetime') return { type, variance, validFrom: start.ms, validUntil: start.ms + DAY_MS };
  if (type === 'permanent') return { type, variance, validFrom: start.ms, validUntil: null };
  const end = parseAlgoDate(body.endDate, 'endDate');
  if (end.ms <= start.ms) throw bad('endDate must be after startDate');
  if (type === 'hourly') {
    const hours = (end.ms - start.ms) / HOUR_MS;
    if (hours > MAX_HOURLY_HOURS) throw bad(`an hourly algoPIN can be valid for 1 to ${MAX_HOURLY_HOURS} hours; use a daily algoPIN for longer`);
    return { type, variance, validFrom: start.ms, validUntil: end.ms };
  }
  // daily: whole days of wall-clock time in the offsets given, so start and end share the time of day.
  if ((end.local - start.local) % DAY_MS !== 0) throw bad('a daily algoPIN must end at the same time of day as it starts');
  const days = (end.local - start.local) / DAY_MS;
  if (days < MIN_DAILY_DAYS || days > MAX_DAILY_DAYS) throw bad(`a daily algoPIN can be valid for ${MIN_DAILY_DAYS} to ${MAX_DAILY_DAYS} days`);
  return { type, variance, validFrom: start.ms, validUntil: end.ms };
}

export async function startIgloohomeEmulator(opts: IgloohomeEmulatorOptions = {}): Promise<IgloohomeEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const clients = (opts.clients ?? [{ clientId: 'igloo-client', clientSecret: 'igloo-secret' }]).map((c) => ({ ...c, scopes: new Set(c.scopes ?? ALL_SCOPES) }));
  const devices = (opts.devices ?? DEFAULT_IGLOOHOME_DEVICES).map((d) => ({ ...d, homeId: [...d.homeId], linkedDevices: d.linkedDevices.map((l) => ({ ...l })) }));
  const deviceById = new Map(devices.map((d) => [d.deviceId, d]));
  const ttlSeconds = opts.tokenTtlSeconds ?? 3600;
  const seed = opts.seed ?? randomBytes(16).toString('hex');
  const pageSize = opts.pageSize ?? 20;

  const tokens = new Map<string, { clientId: string; scopes: Set<string>; expiresAt: number }>();
  const pins = new Map<string, IgloohomePinRecord>();
  const secretByPinId = new Map<string, string>();
  const pinIdBySlot = new Map<string, string>();
  let nextPin = 1;
  let tokenRequestCount = 0;

  /** The algorithm stand-in: 9 digits from an HMAC of the lock and the slot. */
  const computePin = (deviceId: string, s: Slot): string => {
    const h = createHmac('sha256', seed).update(`${deviceId}|${s.type}|${s.validFrom}|${s.validUntil}|${s.variance}`).digest();
    return String(h.readBigUInt64BE(0) % 1_000_000_000n).padStart(9, '0');
  };

  const issue = (deviceId: string, slot: Slot, accessName: string): { pin: string; pinId: string } => {
    const key = `${deviceId}|${slot.type}|${slot.validFrom}|${slot.validUntil}|${slot.variance}`;
    const existing = pinIdBySlot.get(key);
    if (existing !== undefined) return { pin: secretByPinId.get(existing)!, pinId: existing };
    const pinId = `${slot.type}-${String(nextPin++).padStart(6, '0')}`;
    const pin = computePin(deviceId, slot);
    pins.set(pinId, { pinId, deviceId, type: slot.type, variance: slot.variance, accessName, validFrom: slot.validFrom, validUntil: slot.validUntil, firstUsedAt: null, spent: false });
    secretByPinId.set(pinId, pin);
    pinIdBySlot.set(key, pinId);
    return { pin, pinId };
  };

  const tokenOf = (headers: http.IncomingHttpHeaders) => {
    const m = /^Bearer (\S+)$/.exec(headers.authorization ?? '');
    const t = m ? tokens.get(m[1]) : undefined;
    return t && t.expiresAt > Date.now() ? t : null;
  };
  const scopeFor = (method: string, segs: string[]): string | null => {
    if (method === 'GET') return 'igloohomeapi/get-devices';
    if (segs[3] === 'algopin' && segs[4]) return `igloohomeapi/algopin-${segs[4]}`;
    return null;
  };

  const getDevice = (deviceId: string): IgloohomeDevice => {
    const d = deviceById.get(deviceId);
    if (!d) throw new EmulatorHttpError(404, 'not_found', `device ${deviceId} not found`);
    return d;
  };

  const asObject = (body: unknown): Record<string, unknown> => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('body must be a JSON object');
    return body as Record<string, unknown>;
  };

  const api = await startEmulatorServer({
    port: opts.port,
    host,
    apiPrefix: '/igloohome/',
    errorBody: (_status, code, message) => ({ code, message }),
    authorize: (req) => {
      const t = tokenOf(req.headers);
      if (!t) return { status: 401, body: { message: 'Unauthorized' } };
      const scope = scopeFor(req.method, req.segs);
      if (scope && !t.scopes.has(scope)) return { status: 403, body: { message: `the access token lacks the scope ${scope}` } };
      return null;
    },
    route: (method, segs) => {
      // segs[0] === 'igloohome'
      if (segs[1] !== 'devices') return null;
      if (segs.length === 2 && method === 'GET') {
        return {
          template: 'GET /igloohome/devices',
          handle: (req): EmulatorResponse => {
            const cursor = req.query.get('cursor');
            const from = cursor === null ? 0 : Number(cursor);
            if (!Number.isInteger(from) || from < 0 || from > devices.length) throw bad('cursor is not valid');
            const page = devices.slice(from, from + pageSize);
            const next = from + pageSize < devices.length ? String(from + pageSize) : null;
            return { status: 200, body: { nextCursor: next, payload: page } };
          },
        };
      }
      const deviceId = segs[2];
      if (segs.length === 3 && method === 'GET') {
        return { template: 'GET /igloohome/devices/:deviceId', handle: () => ({ status: 200, body: getDevice(deviceId) }) };
      }
      const type = segs[4] as IgloohomePinType;
      if (segs.length === 5 && segs[3] === 'algopin' && method === 'POST' && ['hourly', 'daily', 'onetime', 'permanent'].includes(type)) {
        return {
          template: `POST /igloohome/devices/:deviceId/algopin/${type}`,
          handle: (req) => {
            const device = getDevice(deviceId);
            if (device.type.toLowerCase() === 'bridge') throw bad('this device does not support algoPIN');
            const body = asObject(req.body);
            const accessName = parseAccessName(body.accessName);
            const slot = parseSlot(type, body);
            return { status: 200, body: issue(deviceId, slot, accessName) };
          },
        };
      }
      return null;
    },
    state: () => ({
      devices,
      pins: Array.from(pins.values()),
      tokens: tokens.size,
    }),
    reset: () => {
      pins.clear();
      secretByPinId.clear();
      pinIdBySlot.clear();
      tokens.clear();
      tokenRequestCount = 0;
    },
  });

  // ----- the OAuth2 token host ---------------------------------------------------------------------
  const auth = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/oauth2/token') return send(404, { error: 'not_found' });
      tokenRequestCount += 1;
      if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return send(400, { error: 'invalid_request' });
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      let clientId = form.get('client_id');
      let clientSecret = form.get('client_secret');
      const basic = /^Basic (\S+)$/.exec(req.headers.authorization ?? '');
      if (basic) {
        const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        clientId = decoded.slice(0, i);
        clientSecret = decoded.slice(i + 1);
      }
      const client = clients.find((c) => c.clientId === clientId && c.clientSecret === clientSecret);
      if (!client) return send(400, { error: 'invalid_client' });
      if (form.get('grant_type') !== 'client_credentials') return send(400, { error: 'unsupported_grant_type' });
      const asked = (form.get('scope') ?? '').split(' ').filter(Boolean);
      if (asked.some((s) => !client.scopes.has(s))) return send(400, { error: 'invalid_scope' });
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, { clientId: client.clientId, scopes: new Set(asked.length ? asked : client.scopes), expiresAt: Date.now() + ttlSeconds * 1000 });
      send(200, { access_token: token, expires_in: ttlSeconds, token_type: 'Bearer' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    auth.once('error', reject);
    auth.listen(opts.authPort ?? 0, host, () => resolve());
  });
  const authPort = (auth.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  const canEnter = (lockId: string, pin: string, at = Date.now(), firstUseAt?: number): boolean => {
    for (const rec of pins.values()) {
      if (rec.deviceId !== lockId || secretByPinId.get(rec.pinId) !== pin) continue;
      if (at < rec.validFrom || (rec.validUntil !== null && at >= rec.validUntil)) continue;
      if (rec.type === 'onetime') {
        if (!rec.spent) return true;
        continue;
      }
      if (needsActivation(rec.validFrom, rec.validUntil)) {
        const first = firstUseAt ?? rec.firstUsedAt ?? at;
        if (first - rec.validFrom >= ACTIVATION_WINDOW_MS) continue;
      }
      return true;
    }
    return false;
  };

  const state: IgloohomeEmulatorState = {
    devices: () => devices.map((d) => ({ ...d })),
    pins: (filter = {}) =>
      Array.from(pins.values())
        .filter((p) => (filter.deviceId === undefined || p.deviceId === filter.deviceId) && (filter.accessName === undefined || p.accessName === filter.accessName))
        .map((p) => ({ ...p })),
    canEnter,
    enter: (lockId, pin, at = Date.now()) => {
      if (!canEnter(lockId, pin, at)) return false;
      for (const rec of pins.values()) {
        if (rec.deviceId !== lockId || secretByPinId.get(rec.pinId) !== pin) continue;
        if (at < rec.validFrom || (rec.validUntil !== null && at >= rec.validUntil) || rec.spent) continue;
        rec.firstUsedAt ??= at;
        if (rec.type === 'onetime') rec.spent = true;
      }
      return true;
    },
    expireTokens: () => tokens.clear(),
    tokenRequests: () => tokenRequestCount,
  };

  return {
    url: api.url,
    apiUrl: `${api.url}/igloohome`,
    tokenUrl: `http://${urlHost}:${authPort}/oauth2/token`,
    port: api.port,
    close: async () => {
      await api.close();
      await new Promise<void>((resolve) => {
        auth.close(() => resolve());
        auth.closeAllConnections();
      });
    },
    reset: api.reset,
    faults: api.faults,
    stats: api.stats,
    resetStats: api.resetStats,
    state,
  };
}

export type { FaultRule as IgloohomeFaultRule };
