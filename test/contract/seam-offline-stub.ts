/**
 * A small stateful stand-in for Seam Connect with one online lock and one offline-only lock (igloohome
 * algoPIN via Seam), for what `@seamapi/fake-seam-connect` cannot do: it drops `is_offline_access_code`
 * (see /work/shared/providers/seam.md). It validates offline creates the way Seam documents them
 * (docs.seam.co, "Creating igloohome Offline Access Codes"; seamapi/docs docs/api/access_codes/create.md):
 * no custom `code`; `max_time_rounding` "1h" for 1–672 whole hours or "1d" for 29–367 whole days with
 * start and end at the same time of day; offline codes cannot be updated or deleted through the API;
 * at most 199 codes per lock. Codes can be made to wait for their assignment (`codeDelayGets`).
 */
import { startEmulatorServer, type EmulatorServer } from '../../src/providers/emulator-kit.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const STUB_API_KEY = 'seam_stub_key';
export const ONLINE_LOCK = 'stub_online_lock';
export const OFFLINE_LOCK = 'stub_igloohome_lock';

export interface StubCode {
  access_code_id: string;
  device_id: string;
  name: string;
  code: string | null;
  type: 'time_bound';
  status: 'unset' | 'set';
  starts_at: string;
  ends_at: string;
  is_offline_access_code: boolean;
  is_waiting_for_code_assignment: boolean;
  errors: unknown[];
  warnings: unknown[];
  /** Stub bookkeeping: GETs left before the code is assigned. */
  _getsUntilCode?: number;
}

export interface SeamOfflineStub {
  url: string;
  server: EmulatorServer;
  codes: StubCode[];
  /** Every request: path and body. */
  requests: { path: string; body: Record<string, unknown> }[];
  /** Offline codes created from now on stay unassigned for this many /access_codes/get calls. */
  codeDelayGets: number;
  close(): Promise<void>;
}

export const devices = [
  {
    device_id: ONLINE_LOCK,
    device_type: 'august_lock',
    nickname: 'Front Door',
    can_program_online_access_codes: true,
    can_program_offline_access_codes: false,
    properties: { manufacturer: 'august', online: true, supported_code_lengths: [4, 5, 6, 7, 8] },
  },
  {
    device_id: OFFLINE_LOCK,
    device_type: 'igloohome_lock',
    nickname: 'Shed',
    can_program_online_access_codes: false,
    can_program_offline_access_codes: true,
    properties: { manufacturer: 'igloohome', online: false, model: { display_name: 'Padlock 2', manufacturer_display_name: 'igloohome' } },
  },
];

const bad = (type: string, message: string) => ({ status: 400, body: { error: { type, message } } });

/** Seam's documented rules for an offline (algoPIN) code; null when the request is acceptable. */
function offlineProblem(body: Record<string, unknown>): string | null {
  if (body.code !== undefined) return 'a custom code cannot be set on an offline access code';
  const rounding = body.max_time_rounding;
  if (rounding !== '1h' && rounding !== '1d') return 'max_time_rounding must be "1h" or "1d"';
  const start = Date.parse(String(body.starts_at));
  const end = Date.parse(String(body.ends_at));
  if (Number.isNaN(start) || Number.isNaN(end)) return 'starts_at and ends_at are required';
  if (start % HOUR !== 0 || end % HOUR !== 0) return 'offline codes start and end on whole hours';
  if (rounding === '1h') {
    const hours = (end - start) / HOUR;
    if (hours < 1 || hours > 672) return 'hourly-bound offline codes last 1 to 672 hours';
  } else {
    if ((end - start) % DAY !== 0) return 'daily-bound offline codes start and end at the same time of day';
    const days = (end - start) / DAY;
    if (days < 29 || days > 367) return 'daily-bound offline codes last 29 to 367 days';
  }
  return null;
}

export async function startSeamOfflineStub(): Promise<SeamOfflineStub> {
  let next = 1;
  const stub = { codes: [] as StubCode[], requests: [] as SeamOfflineStub['requests'], codeDelayGets: 0 };
  const view = (c: StubCode) => {
    const { _getsUntilCode, ...rest } = c;
    return rest;
  };
  const find = (id: unknown) => stub.codes.find((c) => c.access_code_id === id);

  const server = await startEmulatorServer({
    authorize: (req) => (req.headers.authorization === `Bearer ${STUB_API_KEY}` ? null : { status: 401, body: { error: { type: 'unauthorized', message: 'Unauthorized' } } }),
    route: (method, segs) => {
      const path = `/${segs.join('/')}`;
      if (method !== 'POST') return null;
      return {
        template: `POST ${path}`,
        handle(req) {
          const body = (req.body ?? {}) as Record<string, unknown>;
          stub.requests.push({ path, body });
          switch (path) {
            case '/devices/list':
              return { status: 200, body: { devices: body.limit ? devices.slice(0, Number(body.limit)) : devices, pagination: { has_next_page: false, next_page_cursor: null } } };
            case '/devices/get': {
              const device = devices.find((d) => d.device_id === body.device_id);
              return device ? { status: 200, body: { device } } : { status: 404, body: { error: { type: 'device_not_found', message: 'Device not found' } } };
            }
            case '/access_codes/create': {
              const device = devices.find((d) => d.device_id === body.device_id);
              if (!device) return { status: 404, body: { error: { type: 'device_not_found', message: 'Device not found' } } };
              const offline = body.is_offline_access_code === true;
              if (offline && !device.can_program_offline_access_codes) return bad('invalid_input', 'device cannot program offline access codes');
              if (!offline && !device.can_program_online_access_codes) return bad('invalid_input', 'device cannot program online access codes');
              if (offline) {
                const problem = offlineProblem(body);
                if (problem) return bad('invalid_input', problem);
              } else if (typeof body.code !== 'string') return bad('invalid_input', 'code is required by this stub for online codes');
              if (stub.codes.filter((c) => c.device_id === device.device_id).length >= 199) return bad('no_space_for_access_code_on_device', 'at most 199 codes');
              const delay = offline ? stub.codeDelayGets : 0;
              const code: StubCode = {
                access_code_id: `ac_${next++}`,
                device_id: device.device_id,
                name: String(body.name ?? ''),
                code: offline ? (delay > 0 ? null : String(100000 + next * 7919).slice(-6)) : String(body.code),
                type: 'time_bound',
                status: 'unset',
                starts_at: new Date(Date.parse(String(body.starts_at))).toISOString(),
                ends_at: new Date(Date.parse(String(body.ends_at))).toISOString(),
                is_offline_access_code: offline,
                is_waiting_for_code_assignment: offline && delay > 0,
                errors: [],
                warnings: [],
                ...(delay > 0 ? { _getsUntilCode: delay } : {}),
              };
              stub.codes.push(code);
              return { status: 200, body: { access_code: view(code) } };
            }
            case '/access_codes/get': {
              const c = find(body.access_code_id);
              if (!c) return { status: 404, body: { error: { type: 'access_code_not_found', message: 'Access code not found' } } };
              if (c.code === null && c._getsUntilCode !== undefined && --c._getsUntilCode <= 0) {
                c.code = String(500000 + Number(c.access_code_id.slice(3)) * 7919).slice(-6);
                c.is_waiting_for_code_assignment = false;
              }
              return { status: 200, body: { access_code: view(c) } };
            }
            case '/access_codes/list':
              return { status: 200, body: { access_codes: stub.codes.filter((c) => c.device_id === body.device_id).map(view) } };
            case '/access_codes/update':
            case '/access_codes/delete': {
              const c = find(body.access_code_id);
              if (!c) return { status: 404, body: { error: { type: 'access_code_not_found', message: 'Access code not found' } } };
              if (c.is_offline_access_code) return bad('invalid_input', 'offline access codes cannot be modified or deleted through the API');
              if (path === '/access_codes/delete') stub.codes.splice(stub.codes.indexOf(c), 1);
              else Object.assign(c, { code: body.code ?? c.code, starts_at: body.starts_at ?? c.starts_at, ends_at: body.ends_at ?? c.ends_at, name: body.name ?? c.name });
              return { status: 200, body: { action_attempt: { action_attempt_id: `aa_${next++}`, action_type: path.slice(14).toUpperCase(), status: 'success', error: null } } };
            }
            default:
              return { status: 404, body: { error: { type: 'not_found', message: 'Not found' } } };
          }
        },
      };
    },
  });

  return Object.assign(stub, {
    url: server.url,
    server,
    close: () => server.close(),
  });
}
