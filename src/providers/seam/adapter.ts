/**
 * Adapter for the Seam Connect API (https://connect.getseam.com), one API in front of many lock brands.
 *
 * Model: no provider users and no groups. A target is a Seam device that can hold online access codes;
 * a grant is one time-bound access code on one device carrying the person's PIN (`pinOnLock`). The
 * code's `name` starts with Lockstep's identity key so a create that crashed before we recorded its id
 * can be found and adopted by observe().
 *
 * Offline-only devices (igloohome algoPIN via Seam) are targets too: there a grant is an offline code
 * that Seam has the lock maker issue for a rounded window; it is returned to the engine as a credential
 * with `fixed: true` (never changed in place, never withdrawn). See notes.md "Offline codes".
 *
 * Every Seam route is a POST with a JSON body and `Authorization: Bearer <api key>`. Errors come back
 * as `{ error: { type, message } }`; we map them ourselves (the shared client only reads flat bodies)
 * and never copy Seam's message text, which can echo the PIN.
 */
import { JsonHttpClient, providerDate, transportOf } from '../http.js';
import {
  ProviderError,
  type IssuedCredential,
  type AccessTarget,
  type AccessWindow,
  type GrantInput,
  type Observation,
  type ObservedGrant,
  type ObservedUser,
  type PinRules,
  type ProviderAdapter,
  capabilities,
  type ProviderCapabilities,
  type ProviderIdentity,
  type ProviderTransport,
} from '../types.js';
import {
  deviceDescription,
  deviceName,
  devicePinRules,
  isCodeTarget,
  takesOfflineCodesOnly,
  pinProblem,
  nameMaxLength,
  type SeamDevice,
} from './devices.js';

interface SeamErrorBody {
  error?: { type?: string; message?: string };
}

interface SeamCodeIssue {
  error_code?: string;
  warning_code?: string;
  message?: string;
}

export interface SeamAccessCode {
  access_code_id: string;
  device_id: string;
  name: string | null;
  code: string | null;
  type: 'ongoing' | 'time_bound';
  status: 'unset' | 'setting' | 'set' | 'removing' | 'unknown';
  starts_at?: string;
  ends_at?: string;
  errors?: SeamCodeIssue[];
  warnings?: SeamCodeIssue[];
  is_managed?: boolean;
  is_offline_access_code?: boolean;
  is_waiting_for_code_assignment?: boolean;
}

interface SeamActionAttempt {
  action_attempt_id: string;
  action_type?: string;
  status: 'pending' | 'success' | 'error';
  error?: { type?: string; message?: string } | null;
}

export interface SeamAdapterOptions extends ProviderTransport {
  baseUrl: string;
  apiKey: string;
  /** How long update/delete wait for a pending action attempt before trusting observe() to confirm. */
  actionAttemptWaitMs?: number;
}

const CAPABILITIES = capabilities({
  membershipWindows: true,
  pinOnLock: true,
  revocable: true,
  updatableGrants: true,
});

/**
 * One PIN per person must fit every brand behind Seam, so the defaults are the strictest common set:
 * no zeros and no leading "12" (Nuki keypads), 4–8 digits (the common supported_code_lengths).
 * A device that is stricter still says so in its own `pinRules` (see devices.ts).
 */
const PIN_RULES: PinRules = Object.freeze({
  length: 6,
  minLength: 4,
  maxLength: 8,
  allowedDigits: '123456789',
  bannedPrefixes: Object.freeze(['12']) as string[],
});

/**
 * Seam's time-bound codes need both starts_at and ends_at; an open-ended Lockstep window is sent with
 * this far end and read back as null. (An `ongoing` code cannot carry a future start.)
 */
export const OPEN_END_ISO = '2099-12-31T23:59:00.000Z';
const OPEN_END_MS = Date.parse(OPEN_END_ISO);

/** Errors on a code (in errors[] or as an API error type) that mean "this PIN is already on the lock". */
const DUPLICATE_CODE = new Set(['duplicate_code_on_device', 'duplicate_access_code', 'duplicate_code_attempt_prevented']);

const toIso = (ms: number): string => new Date(ms).toISOString();


const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Seam's (igloohome's) offline code limits: hourly-bound 1–672 h, daily-bound 29–367 days. */
export const OFFLINE_MAX_HOURS = 672;
export const OFFLINE_MAX_DAYS = 367;

export interface OfflineRounding {
  window: { startsAt: number; endsAt: number };
  /** Seam's `max_time_rounding`: "1h" (hourly-bound) or "1d" (daily-bound). */
  maxTimeRounding: '1h' | '1d';
  /** Length in whole units of `maxTimeRounding`. */
  units: number;
}

/**
 * The window an offline code is issued for: outward to whole (UTC) hours, as an hourly-bound code when
 * that is at most 672 h; otherwise a daily-bound code from the same whole hour for whole days, so start
 * and end are at the same time of day. Null for an open-ended window (an offline code always ends).
 * Longer than 367 days is still rounded here; createGrant refuses it.
 */
export function roundOfflineWindow(window: AccessWindow): OfflineRounding | null {
  if (window.endsAt === null || window.endsAt <= window.startsAt) return null;
  const startsAt = Math.floor(window.startsAt / HOUR) * HOUR;
  const hourEnd = Math.ceil(window.endsAt / HOUR) * HOUR;
  const hours = (hourEnd - startsAt) / HOUR;
  if (hours <= OFFLINE_MAX_HOURS) return { window: { startsAt, endsAt: hourEnd }, maxTimeRounding: '1h', units: hours };
  const days = Math.ceil((window.endsAt - startsAt) / DAY); // ≥ 29, as 672 h = 28 days
  return { window: { startsAt, endsAt: startsAt + days * DAY }, maxTimeRounding: '1d', units: days };
}

/**
 * Thrown (deliberately not a ProviderError) when the engine planned an offline device's window without
 * rounding, because this adapter had not yet seen the device (first sync after a restart). Nothing was
 * written. The engine carries on past a ProviderError to the plan's remaining steps, which here would
 * be "leave the person's existing offline code valid" (a needless new code for the guest); any other
 * error ends the run, which is retried at once with a warm device cache and a correctly rounded plan.
 */
export class SeamReplanNeeded extends Error {
  constructor(deviceId: string) {
    super(
      `seam: lock ${deviceId} takes offline codes only, which this adapter learned after the sync was planned (first sync since a restart); nothing was written, and the retry plans with Seam's hourly/daily rounding`,
    );
    this.name = 'SeamReplanNeeded';
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `name` is "<key>" or "<key> <display name>"; this is the key-match that keeps `ls-1` from matching `ls-10`. */
export function nameCarriesKey(name: string | null | undefined, key: string): boolean {
  return typeof name === 'string' && (name === key || name.startsWith(`${key} `));
}

export class SeamAdapter implements ProviderAdapter {
  readonly kind = 'seam';
  readonly capabilities: ProviderCapabilities = CAPABILITIES;
  readonly pinRules: PinRules = PIN_RULES;
  private readonly http: JsonHttpClient;
  private readonly baseUrl: string;
  private readonly actionAttemptWaitMs: number;
  /** Devices seen by listTargets or fetched on demand: their PIN and name constraints. */
  private readonly devices = new Map<string, SeamDevice>();
  /** Targets roundWindow was asked about before their device was known (answered unrounded). */
  private readonly plannedBlind = new Set<string>();
  /**
   * Offline codes Seam created but had not yet assigned a code to, by device/key/window: the retry asks
   * for that code instead of creating another one. In memory only (see notes.md).
   */
  private readonly awaitingCode = new Map<string, string>();

  constructor(opts: SeamAdapterOptions) {
    this.baseUrl = opts.baseUrl;
    this.actionAttemptWaitMs = opts.actionAttemptWaitMs ?? 1_500;
    this.http = new JsonHttpClient({
      baseUrl: opts.baseUrl,
      headers: { authorization: `Bearer ${opts.apiKey}` },
      ...transportOf(opts),
      provider: 'seam',
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async testConnection(): Promise<void> {
    try {
      await this.post('/devices/list', { limit: 1 });
    } catch (err) {
      if (err instanceof ProviderError && err.kind === 'not-found') {
        throw new ProviderError('not-found', `seam: no Seam Connect API found at ${this.baseUrl}; check the integration's base URL`, err.details);
      }
      throw err;
    }
  }

  async listTargets(): Promise<AccessTarget[]> {
    const devices = await this.listDevices();
    return devices.filter(isCodeTarget).map((d) => {
      const rules = takesOfflineCodesOnly(d) ? undefined : devicePinRules(d);
      const description = deviceDescription(d);
      return {
        ref: d.device_id,
        name: deviceName(d),
        ...(description ? { description } : {}),
        kind: 'lock' as const,
        ...(rules ? { pinRules: rules } : {}),
        ...(d.properties?.max_active_codes_supported ? { capacity: d.properties.max_active_codes_supported } : {}),
      };
    });
  }

  // Seam has no users for access codes; the identity travels in each code's name.
  async findUser(_key: string): Promise<ObservedUser | null> {
    return null;
  }
  async createUser(_identity: ProviderIdentity): Promise<{ ref: string }> {
    throw new ProviderError('rejected', 'seam: access codes have no provider user (providerUsers is false)');
  }
  async deleteUser(_userRef: string): Promise<void> {}
  async setUserPin(_userRef: string, _pin: string): Promise<void> {
    throw new ProviderError('rejected', 'seam: the PIN travels with each access code (pinOnUser is false)');
  }

  /**
   * Offline-only devices get their window rounded outward (see roundOfflineWindow); everything else is
   * stored exactly. Synchronous, so it relies on devices seen by listTargets/observe/createGrant: for a
   * device not seen yet it answers unrounded, and createGrant refuses to write such a plan for an
   * offline device (SeamReplanNeeded) so the engine re-plans once the device is known.
   */
  roundWindow(window: AccessWindow, targetRef: string): AccessWindow {
    const device = this.devices.get(targetRef);
    if (!device) {
      this.plannedBlind.add(targetRef);
      return window;
    }
    if (!takesOfflineCodesOnly(device)) return window;
    return roundOfflineWindow(window)?.window ?? window;
  }

  async createGrant(input: GrantInput): Promise<{ ref: string; credential?: IssuedCredential; fixed?: boolean }> {
    const device = await this.device(input.targetRef);
    if (takesOfflineCodesOnly(device)) return this.createOfflineCode(input, device);
    const pin = requirePin(input.pin);
    assertPinFits(device, pin);
    const body = {
      device_id: input.targetRef,
      name: codeName(input.identity.key, input.identity.displayName, nameMaxLength(device)),
      code: pin,
      ...windowFields(input.window),
    };
    let res: { access_code: SeamAccessCode };
    try {
      res = await this.post<{ access_code: SeamAccessCode }>('/access_codes/create', body);
    } catch (err) {
      throw await this.explainDuplicate(err, input.targetRef, input.identity.key, pin);
    }
    const created = res.access_code;
    const duplicate = created.errors?.find((e) => DUPLICATE_CODE.has(e.error_code ?? ''));
    if (duplicate) {
      // Seam accepted the request but the lock already holds this PIN: take our copy away again and
      // answer 409 so the engine issues a fresh PIN.
      await this.post('/access_codes/delete', { access_code_id: created.access_code_id }, [404]).catch(() => undefined);
      throw duplicateError('/access_codes/create');
    }
    return { ref: created.access_code_id };
  }

  async updateGrant(input: GrantInput & { grantRef: string }): Promise<void> {
    const device = await this.device(input.targetRef);
    if (takesOfflineCodesOnly(device)) throw await this.offlineCodeIsFixed(input.grantRef);
    const pin = requirePin(input.pin);
    assertPinFits(device, pin);
    const res = await this.post<{ action_attempt?: SeamActionAttempt }>('/access_codes/update', {
      // No device_id: Seam (and its fake) look a code up by id *or* device, and a code deleted behind
      // our back must answer 404, not update another code on the same lock.
      access_code_id: input.grantRef,
      name: codeName(input.identity.key, input.identity.displayName, nameMaxLength(device)),
      code: pin,
      ...windowFields(input.window),
    });
    if (res.action_attempt) await this.settle(res.action_attempt, '/access_codes/update');
  }

  async deleteGrant(input: { grantRef: string; targetRef: string }): Promise<void> {
    const device = this.devices.get(input.targetRef) ?? (await this.device(input.targetRef).catch(() => null));
    if (device && takesOfflineCodesOnly(device)) throw await this.offlineCodeIsFixed(input.grantRef);
    const res = await this.post<{ action_attempt?: SeamActionAttempt } & SeamErrorBody>(
      '/access_codes/delete',
      { access_code_id: input.grantRef },
      [404],
    );
    if (res.action_attempt) await this.settle(res.action_attempt, '/access_codes/delete');
  }

  /**
   * Every code on every code-capable device whose name carries the person's key. Codes on their way
   * out (`removing`) are not held; codes in any other state are (unset/setting are scheduled or being
   * written; `unknown` means Seam cannot reach the account, and we do not treat that as removal).
   *
   * Offline codes are reported only when the engine already holds their ref (it recorded them with the
   * credential and `fixed`), with the window Seam holds, which is the rounded window the engine asked
   * for. An offline code the engine never recorded (a create whose code Seam had not assigned yet, or a
   * crash before the answer was stored) is not adopted here: adopted, it would be a grant without its
   * credential that the engine believes it can change and withdraw.
   */
  async observe(input: { key: string; grantRefs: { ref: string; targetRef: string }[] }): Promise<Observation> {
    const devices = (await this.listDevices()).filter(isCodeTarget);
    const deviceIds = new Set(devices.map((d) => d.device_id));
    const known = new Set(input.grantRefs.map((g) => g.ref));
    for (const g of input.grantRefs) deviceIds.add(g.targetRef);
    const grants: ObservedGrant[] = [];
    for (const deviceId of deviceIds) {
      const res = await this.post<{ access_codes: SeamAccessCode[] }>('/access_codes/list', { device_id: deviceId }, [404]);
      if (!res.access_codes) continue; // device gone
      for (const c of res.access_codes) {
        // Filter by device again: a list must not hand us another device's codes (the fake does).
        if (c.device_id !== deviceId || !nameCarriesKey(c.name, input.key) || c.status === 'removing') continue;
        const device = this.devices.get(deviceId);
        const offline = c.is_offline_access_code === true || (device !== undefined && takesOfflineCodesOnly(device));
        if (offline && !known.has(c.access_code_id)) continue;
        grants.push({ ref: c.access_code_id, targetRef: c.device_id, window: codeWindow(c) });
      }
    }
    return { user: null, grants };
  }

  // ---- offline codes ----

  /**
   * POST /access_codes/create with `is_offline_access_code: true`, no `code` (Seam has the lock maker
   * issue one) and `max_time_rounding`; the code is returned as the guest's credential.
   */
  private async createOfflineCode(input: GrantInput, device: SeamDevice): Promise<{ ref: string; credential: IssuedCredential; fixed: true }> {
    const deviceId = input.targetRef;
    if (input.window.endsAt === null) {
      throw new ProviderError('rejected', `seam: lock ${deviceId} takes offline codes only, and an offline code must end (at most ${OFFLINE_MAX_DAYS} days); an open-ended window cannot be issued`);
    }
    windowFields(input.window); // refuses an end before the start
    const rounding = roundOfflineWindow(input.window)!;
    if (rounding.maxTimeRounding === '1d' && rounding.units > OFFLINE_MAX_DAYS) {
      throw new ProviderError(
        'rejected',
        `seam: lock ${deviceId} takes offline codes only, which last at most ${OFFLINE_MAX_DAYS} days; this window needs ${rounding.units} days`,
      );
    }
    const { window } = rounding;
    if (this.plannedBlind.has(deviceId) && (window.startsAt !== input.window.startsAt || window.endsAt !== input.window.endsAt)) {
      throw new SeamReplanNeeded(deviceId);
    }
    const pendingKey = `${deviceId}|${input.identity.key}|${window.startsAt}|${window.endsAt}`;
    let code: SeamAccessCode | null = null;
    const pendingId = this.awaitingCode.get(pendingKey);
    if (pendingId) code = await this.getCode(pendingId);
    if (!code) {
      const res = await this.post<{ access_code: SeamAccessCode }>('/access_codes/create', {
        device_id: deviceId,
        name: codeName(input.identity.key, input.identity.displayName, nameMaxLength(device)),
        is_offline_access_code: true,
        max_time_rounding: rounding.maxTimeRounding,
        starts_at: toIso(window.startsAt),
        ends_at: toIso(window.endsAt),
      });
      code = res.access_code;
      // Seam may assign the code asynchronously (is_waiting_for_code_assignment): ask once more.
      if (!code.code) code = (await this.getCode(code.access_code_id)) ?? code;
    }
    if (!code.code) {
      this.awaitingCode.set(pendingKey, code.access_code_id);
      throw new ProviderError('transient', `seam: Seam has not yet assigned the offline code on lock ${deviceId}; will ask again`);
    }
    this.awaitingCode.delete(pendingKey);
    const validFrom = code.starts_at ? providerDate('seam', code.starts_at, 'access code starts_at') : window.startsAt;
    const validUntil = code.ends_at ? providerDate('seam', code.ends_at, 'access code ends_at') : window.endsAt;
    const long = validUntil - validFrom > DAY;
    return {
      ref: code.access_code_id,
      fixed: true,
      credential: {
        kind: 'pin',
        secret: code.code,
        validFrom,
        validUntil,
        ...(long ? { firstUseBefore: validFrom + DAY } : {}),
        instructions:
          "Enter this code on the lock's keypad. The lock checks it by itself, without a connection, so it cannot be changed or withdrawn." +
          (long ? ' Use it for the first time within 24 hours of the start, or it will not open the door.' : ''),
      },
    };
  }

  /** The code, or null when Seam no longer has it. */
  private async getCode(accessCodeId: string): Promise<SeamAccessCode | null> {
    const res = await this.post<{ access_code?: SeamAccessCode }>('/access_codes/get', { access_code_id: accessCodeId }, [404]);
    return res.access_code ?? null;
  }

  /** The refusal for changing or withdrawing an offline code, saying until when it stays valid. */
  private async offlineCodeIsFixed(accessCodeId: string): Promise<ProviderError> {
    const code = await this.getCode(accessCodeId).catch(() => null);
    const until = code?.ends_at ? `it stays valid until ${code.ends_at}` : 'it stays valid until its end';
    return new ProviderError('rejected', `seam: an offline access code cannot be changed or withdrawn remotely; ${until}`);
  }

  // ---- helpers ----

  /**
   * Seam keeps a PIN unique per lock even across windows that do not overlap. When the code already on
   * the lock is this person's own (a second, separate window on the same lock), a new PIN would not
   * help and would only move both codes to it and clash again: answer a plain rejection (no 409) and
   * let the engine retry; once the earlier window ends its code is moved to the next one.
   */
  private async explainDuplicate(err: unknown, deviceId: string, key: string, pin: string): Promise<unknown> {
    if (!(err instanceof ProviderError && err.details.status === 409)) return err;
    const res = await this.post<{ access_codes: SeamAccessCode[] }>('/access_codes/list', { device_id: deviceId }).catch(() => null);
    const own = res?.access_codes?.some((c) => c.device_id === deviceId && c.code === pin && nameCarriesKey(c.name, key));
    if (!own) return err;
    return new ProviderError(
      'rejected',
      'seam: this person already has a code with the same PIN on this lock for another window; Seam allows one code per PIN per lock, so this window is written when the other one ends',
    );
  }

  private async listDevices(): Promise<SeamDevice[]> {
    const all: SeamDevice[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const res = await this.post<{ devices: SeamDevice[]; pagination?: { has_next_page?: boolean; next_page_cursor?: string | null } }>(
        '/devices/list',
        cursor ? { page_cursor: cursor } : {},
      );
      for (const d of res.devices) {
        all.push(d);
        this.devices.set(d.device_id, d);
      }
      if (!res.pagination?.has_next_page || !res.pagination.next_page_cursor) break;
      cursor = res.pagination.next_page_cursor;
    }
    return all;
  }

  /**
   * Capacity from the device's `max_active_codes_supported`; codes Lockstep did not create are the
   * device's managed codes without a Lockstep key in their name plus its unmanaged codes (made in the
   * lock's own app), which Lockstep never touches.
   */
  async keypadOccupancy(deviceId: string): Promise<{ capacity: number | null; foreignCodes: number }> {
    this.devices.delete(deviceId); // a fresh read: the figure is what this is for
    const device = await this.device(deviceId);
    const managed = await this.post<{ access_codes: SeamAccessCode[] }>('/access_codes/list', { device_id: deviceId });
    const unmanaged = await this.post<{ access_codes?: unknown[] }>('/access_codes/unmanaged/list', { device_id: deviceId }, [404]).catch(() => null);
    const ours = (name: string | null) => typeof name === 'string' && /^(lockstep-|ls-)/.test(name);
    const foreignCodes = managed.access_codes.filter((c) => !ours(c.name)).length + (unmanaged?.access_codes?.length ?? 0);
    return { capacity: device.properties?.max_active_codes_supported ?? null, foreignCodes };
  }

  private async device(deviceId: string): Promise<SeamDevice> {
    const cached = this.devices.get(deviceId);
    if (cached) return cached;
    const res = await this.post<{ device: SeamDevice }>('/devices/get', { device_id: deviceId });
    this.devices.set(deviceId, res.device);
    return res.device;
  }

  /**
   * Waits briefly for an update/delete action attempt. `error` fails the call; still `pending` after
   * the wait is accepted: the engine's read-back (observe) confirms later, like any unconfirmed write.
   */
  private async settle(attempt: SeamActionAttempt, route: string): Promise<void> {
    let current = attempt;
    const deadline = Date.now() + this.actionAttemptWaitMs;
    let delay = 100;
    while (current.status === 'pending' && Date.now() < deadline) {
      await sleep(delay);
      delay = Math.min(delay * 2, 500);
      const res = await this.post<{ action_attempt: SeamActionAttempt }>('/action_attempts/get', { action_attempt_id: current.action_attempt_id });
      current = res.action_attempt;
    }
    if (current.status !== 'error') return;
    const type = current.error?.type ?? 'unknown_error';
    if (DUPLICATE_CODE.has(type)) throw duplicateError(route);
    throw new ProviderError('transient', `seam: POST ${route} failed on the device (${type}); will retry`);
  }

  /** POST with Seam's error shape mapped to ProviderErrors; `ok` statuses resolve with the body. */
  private async post<T>(route: string, body: Record<string, unknown>, ok: number[] = []): Promise<T & SeamErrorBody> {
    const res = await this.http.request<T & SeamErrorBody>('POST', route, { body, expect: [400, 404, 409, 422, ...ok] });
    if (res.status < 300 || ok.includes(res.status)) return res.body ?? ({} as T);
    const type = res.body?.error?.type ?? 'unknown_error';
    const label = `seam: POST ${route}`;
    if (res.status === 404) throw new ProviderError('not-found', `${label} answered HTTP 404 (${type})`, { status: 404 });
    if (res.status === 409 && DUPLICATE_CODE.has(type)) throw duplicateError(route);
    // Seam's own message may quote the code we sent, so only its error type is passed on.
    throw new ProviderError('rejected', `${label} was rejected with HTTP ${res.status} (${type})`, { status: res.status });
  }
}

function requirePin(pin: string | undefined): string {
  if (!pin) throw new ProviderError('rejected', 'seam: an access code needs a PIN (none was given)');
  return pin;
}

function assertPinFits(device: SeamDevice, pin: string): void {
  const problem = pinProblem(device, pin);
  if (problem) throw new ProviderError('rejected', `seam: the PIN does not fit lock ${device.device_id}: ${problem}`);
}

function duplicateError(route: string): ProviderError {
  return new ProviderError('rejected', `seam: POST ${route}: the lock already holds this PIN (duplicate access code)`, { status: 409 });
}

/** "<key> <display name>", cut to the device's name limit; the key itself is never cut. */
export function codeName(key: string, displayName: string, maxLength: number | null): string {
  const full = displayName && displayName !== key ? `${key} ${displayName}` : key;
  if (maxLength === null || full.length <= maxLength) return full;
  return full.slice(0, Math.max(key.length, maxLength)).trimEnd();
}

function windowFields(window: AccessWindow): { starts_at: string; ends_at: string } {
  const ends = window.endsAt === null ? OPEN_END_MS : window.endsAt;
  if (ends <= window.startsAt) throw new ProviderError('rejected', 'seam: an access code must end after it starts');
  return { starts_at: toIso(window.startsAt), ends_at: window.endsAt === null ? OPEN_END_ISO : toIso(ends) };
}

/** An `ongoing` code (made outside Lockstep) holds from its creation with no end; we report it as open from 0. */
export function codeWindow(c: SeamAccessCode): AccessWindow {
  if (c.type !== 'time_bound') return { startsAt: 0, endsAt: null };
  const endsAt = providerDate('seam', c.ends_at, 'access code ends_at');
  return { startsAt: providerDate('seam', c.starts_at, 'access code starts_at'), endsAt: endsAt === OPEN_END_MS ? null : endsAt };
}
