/**
 * Reading Seam devices: which can hold our codes, what to call them, and what PINs and names they
 * accept (properties.supported_code_lengths and properties.code_constraints, as published in
 * @seamapi/types `models/devices/capability-properties/access-code`).
 */
import type { PinRules } from '../types.js';

interface SeamConstraint {
  constraint_type: string;
  min_length?: number;
  max_length?: number;
}

export interface SeamDevice {
  device_id: string;
  device_type?: string;
  display_name?: string;
  nickname?: string;
  capabilities_supported?: string[];
  can_program_online_access_codes?: boolean;
  can_program_offline_access_codes?: boolean;
  properties?: {
    name?: string;
    online?: boolean;
    appearance?: { name?: string };
    model?: { display_name?: string; manufacturer_display_name?: string };
    manufacturer?: string;
    supported_code_lengths?: number[];
    max_active_codes_supported?: number;
    code_constraints?: SeamConstraint[];
  };
}

/** A device takes our PIN only if Seam can program online codes on it (offline-only locks issue their own). */
export function canHoldOnlineCodes(d: SeamDevice): boolean {
  return d.can_program_online_access_codes === true;
}

/**
 * An offline-only device (igloohome without a bridge): Seam can only ask the lock maker's server for an
 * algorithmic code (algoPIN) that the lock checks by itself. Such a code carries no PIN of ours, is
 * issued for a rounded window, and can be neither changed nor withdrawn through Seam.
 */
export function takesOfflineCodesOnly(d: SeamDevice): boolean {
  return d.can_program_offline_access_codes === true && d.can_program_online_access_codes !== true;
}

/** Listed as a target: takes our PIN online, or issues offline codes. */
export function isCodeTarget(d: SeamDevice): boolean {
  return canHoldOnlineCodes(d) || takesOfflineCodesOnly(d);
}

export const OFFLINE_TARGET_NOTE = "offline codes (issued by the lock's algorithm; cannot be withdrawn)";

export function deviceName(d: SeamDevice): string {
  return d.nickname || d.properties?.appearance?.name || d.display_name || d.properties?.name || d.device_id;
}

/** "August (Fake August Lock 1) · codes of 4–8 digits · up to 250 codes · offline" — what an admin mapping a space needs. */
export function deviceDescription(d: SeamDevice): string | undefined {
  const p = d.properties ?? {};
  const parts: string[] = [];
  const maker = p.model?.manufacturer_display_name && p.model.manufacturer_display_name !== 'Generic' ? p.model.manufacturer_display_name : p.manufacturer;
  const model = p.model?.display_name && p.model.display_name !== 'Device' ? p.model.display_name : p.name;
  const what = [maker, model && model !== deviceName(d) ? `(${model})` : ''].filter(Boolean).join(' ');
  if (what) parts.push(what);
  const lengths = p.supported_code_lengths?.length ? p.supported_code_lengths : null;
  if (lengths) parts.push(`codes of ${Math.min(...lengths)}–${Math.max(...lengths)} digits`);
  if (p.max_active_codes_supported) parts.push(`up to ${p.max_active_codes_supported} codes`);
  if (takesOfflineCodesOnly(d)) parts.push(OFFLINE_TARGET_NOTE);
  else if (p.online === false) parts.push('offline');
  return parts.length ? parts.join(' · ') : undefined;
}

const has = (d: SeamDevice, type: string) => Boolean(d.properties?.code_constraints?.some((c) => c.constraint_type === type));

/** The device's own tightening of the provider PIN rules, or undefined when it publishes none. */
export function devicePinRules(d: SeamDevice): Partial<PinRules> | undefined {
  const rules: Partial<PinRules> = {};
  const lengths = d.properties?.supported_code_lengths;
  if (lengths?.length) {
    rules.minLength = Math.min(...lengths);
    rules.maxLength = Math.max(...lengths);
  }
  if (has(d, 'no_zeros')) rules.allowedDigits = '123456789';
  if (has(d, 'cannot_contain_089')) rules.allowedDigits = '1234567';
  if (has(d, 'cannot_contain_0789')) rules.allowedDigits = '123456';
  if (has(d, 'cannot_start_with_12')) rules.bannedPrefixes = ['12'];
  return Object.keys(rules).length ? rules : undefined;
}

/**
 * Why this PIN cannot go on this device, or null when it can. Never names the PIN or any part of it:
 * the message ends up in logs and the audit trail.
 */
export function pinProblem(d: SeamDevice, pin: string): string | null {
  if (!/^\d+$/.test(pin)) return 'codes are digits only';
  if (has(d, 'cannot_specify_pin_code')) return 'this lock generates its own codes (cannot_specify_pin_code)';
  const lengths = d.properties?.supported_code_lengths;
  if (lengths?.length && !lengths.includes(pin.length)) return `this lock takes codes of ${lengths.join(', ')} digits`;
  const rules = devicePinRules(d);
  if (rules?.allowedDigits && [...pin].some((c) => !rules.allowedDigits!.includes(c))) return `this lock only takes the digits ${rules.allowedDigits}`;
  if (has(d, 'cannot_start_with_12') && pin.startsWith('12')) return 'this lock refuses codes starting with a reserved prefix';
  if (has(d, 'no_triple_consecutive_ints') && /(\d)\1\1/.test(pin)) return 'this lock refuses three equal digits in a row';
  if (has(d, 'at_least_three_unique_digits') && new Set(pin).size < 3) return 'this lock needs at least three different digits';
  if (has(d, 'no_ascending_or_descending_sequence') && isRun(pin)) return 'this lock refuses ascending or descending runs';
  return null;
}

function isRun(pin: string): boolean {
  if (pin.length < 3) return false;
  const steps = new Set([...pin].slice(1).map((c, i) => Number(c) - Number(pin[i])));
  return steps.size === 1 && (steps.has(1) || steps.has(-1));
}

/** The name_length constraint's max_length, or null when the device has none. */
export function nameMaxLength(d: SeamDevice): number | null {
  const c = d.properties?.code_constraints?.find((x) => x.constraint_type === 'name_length' && typeof x.max_length === 'number');
  return c?.max_length ?? null;
}
