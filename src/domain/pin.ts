/**
 * PIN rules and generation.
 *
 * PINs are secrets. Nothing in this module logs a PIN or puts one (or any part of one, such as the
 * banned prefix it starts with) into an error message: messages end up in logs, audit entries and
 * API responses that people other than the PIN holder can read.
 */
import { randomInt as cryptoRandomInt } from 'node:crypto';
import type { PinRules } from '../providers/types.js';

const DIGITS = '0123456789';
/** Bounded so a nearly-full PIN space fails loudly instead of spinning. */
const MAX_ATTEMPTS = 1000;

export class PinRulesConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PinRulesConflictError';
  }
}

export class PinSpaceExhaustedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PinSpaceExhaustedError';
  }
}

function onlyDigits(s: string): string {
  return [...DIGITS].filter((d) => s.includes(d)).join('');
}

/** Throws PinRulesConflictError if no PIN could ever satisfy `rules`. */
function assertSatisfiable(rules: PinRules): void {
  const { minLength, maxLength, length } = rules;
  if (![minLength, maxLength, length].every((n) => Number.isInteger(n) && n >= 1)) {
    throw new PinRulesConflictError('PIN lengths must be whole numbers of at least 1');
  }
  if (minLength > maxLength) {
    throw new PinRulesConflictError(
      `PIN rules conflict: one target requires at least ${minLength} digits but another allows at most ${maxLength}`,
    );
  }
  if (length < minLength || length > maxLength) {
    throw new PinRulesConflictError(`PIN length ${length} is outside the allowed ${minLength}–${maxLength} digits`);
  }
  const digits = onlyDigits(rules.allowedDigits);
  if (digits.length < 2) {
    throw new PinRulesConflictError(
      `PIN rules conflict: the keypads have only ${digits.length === 0 ? 'no digits' : `the digit ${digits}`} in common; at least 2 are needed`,
    );
  }
  if (rules.bannedPrefixes.includes('')) {
    throw new PinRulesConflictError('PIN rules conflict: an empty banned prefix bans every PIN');
  }
  if ([...digits].every((d) => rules.bannedPrefixes.includes(d))) {
    throw new PinRulesConflictError('PIN rules conflict: every allowed digit is a banned first digit');
  }
}

/**
 * Combines provider rules with per-target tightenings into the strictest rules that satisfy all of
 * them, because one person's PIN may have to work on several keypads at once (pinOnUser providers).
 */
export function mergePinRules(base: PinRules, ...overrides: (Partial<PinRules> | undefined)[]): PinRules {
  const all = [base, ...overrides.filter((o): o is Partial<PinRules> => o !== undefined)];
  const pick = <K extends keyof PinRules>(k: K): NonNullable<PinRules[K]>[] =>
    all.map((r) => r[k]).filter((v): v is NonNullable<PinRules[K]> => v !== undefined && v !== null);

  const minLength = Math.max(...pick('minLength'));
  const maxLength = Math.min(...pick('maxLength'));
  // Longest requested length wins (longer = harder to guess), then forced into the allowed range.
  const length = Math.min(Math.max(Math.max(...pick('length')), minLength), maxLength);
  // Intersection, always in canonical 0-9 order so equal rule sets compare equal.
  const allowedDigits = [...DIGITS].filter((d) => pick('allowedDigits').every((set) => set.includes(d))).join('');
  const bannedPrefixes = [...new Set(pick('bannedPrefixes').flat())];

  const merged: PinRules = { length, minLength, maxLength, allowedDigits, bannedPrefixes };
  assertSatisfiable(merged);
  return merged;
}

/** True for codes a passer-by would try first. Palindromes (e.g. 123321) are deliberately allowed. */
export function isTrivialPin(pin: string): boolean {
  if (pin.length === 0) return true;
  const d = [...pin].map((c) => c.charCodeAt(0) - 48);
  const stepIs = (step: number): boolean => d.every((x, i) => i === 0 || x === (d[i - 1] + step + 10) % 10);
  // +0: 111111; ±1: 123456 / 654321, wrapping through 9→0 (890123) since keypads are often laid out
  // that way and people type it as a run.
  if (stepIs(0) || stepIs(1) || stepIs(-1)) return true;
  // Short repeated patterns (121212, 123123); need at least two full repeats so 1231 is not flagged.
  for (const period of [2, 3]) {
    if (pin.length >= 2 * period && d.every((x, i) => i < period || x === d[i - period])) return true;
  }
  return false;
}

/**
 * Why `pin` breaks `rules`, or null. Never mentions the PIN or any part of it.
 */
export function pinRuleViolation(pin: string, rules: PinRules): string | null {
  if (pin.length < rules.minLength || pin.length > rules.maxLength) {
    return rules.minLength === rules.maxLength
      ? `PIN must be exactly ${rules.minLength} digits long`
      : `PIN must be ${rules.minLength}–${rules.maxLength} digits long`;
  }
  if (![...pin].every((c) => DIGITS.includes(c))) return 'PIN must contain digits only';
  const allowed = onlyDigits(rules.allowedDigits);
  if (![...pin].every((c) => allowed.includes(c))) return `PIN may only use the digits ${allowed}`;
  if (rules.bannedPrefixes.some((p) => pin.startsWith(p))) {
    return 'PIN starts with a reserved prefix (kept for admin or duress codes)';
  }
  if (isTrivialPin(pin)) return 'PIN is too easy to guess (repeated digits, a run like 1234, or a short repeating pattern)';
  return null;
}

/**
 * Two PINs clash when they are equal or one is a prefix of the other: a keypad that accepts a code
 * as soon as the Nth digit is entered would open for the shorter one while the longer is being typed.
 */
export function pinsClash(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * Generates a `rules.length`-digit PIN from a CSPRNG, rejecting trivial, banned and taken codes.
 * `isTaken` is the caller's uniqueness check (typically `pinsClash` against PINs live on the same
 * keypads). `randomInt(max)` must return an integer in [0, max); injectable only for tests.
 */
export function generatePin(
  rules: PinRules,
  isTaken: (pin: string) => boolean,
  randomInt: (max: number) => number = (max) => cryptoRandomInt(max),
): string {
  assertSatisfiable(rules);
  const digits = onlyDigits(rules.allowedDigits);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let pin = '';
    for (let i = 0; i < rules.length; i++) {
      const r = randomInt(digits.length);
      if (!Number.isInteger(r) || r < 0 || r >= digits.length) throw new RangeError('randomInt returned a value out of range');
      pin += digits[r];
    }
    if (pinRuleViolation(pin, rules) === null && !isTaken(pin)) return pin;
  }
  const longer = rules.length < rules.maxLength ? ` (up to ${rules.maxLength} is allowed)` : ' (raise maxLength if the keypads allow it)';
  throw new PinSpaceExhaustedError(
    `Could not find a free ${rules.length}-digit PIN after ${MAX_ATTEMPTS} attempts: nearly all codes of this ` +
      `length are taken or disallowed. Use a longer PIN length${longer}.`,
  );
}
