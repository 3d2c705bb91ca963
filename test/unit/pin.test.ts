import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generatePin,
  isTrivialPin,
  mergePinRules,
  PinRulesConflictError,
  PinSpaceExhaustedError,
  pinRuleViolation,
  pinsClash,
} from '../../src/domain/pin.js';
import type { PinRules } from '../../src/providers/types.js';

const BASE: PinRules = { length: 6, minLength: 4, maxLength: 8, allowedDigits: '0123456789', bannedPrefixes: [] };

describe('mergePinRules', () => {
  it('returns the base unchanged (but normalised) without overrides', () => {
    expect(mergePinRules(BASE)).toEqual(BASE);
    expect(mergePinRules(BASE, undefined, {})).toEqual(BASE);
  });

  it('takes the strictest combination', () => {
    const merged = mergePinRules(
      { length: 6, minLength: 4, maxLength: 10, allowedDigits: '9876543210', bannedPrefixes: ['0'] },
      { minLength: 5, allowedDigits: '123456789', bannedPrefixes: ['9', '0'] },
      undefined,
      { maxLength: 8, length: 7, allowedDigits: '02468135' },
    );
    expect(merged).toEqual({
      length: 7,
      minLength: 5,
      maxLength: 8,
      allowedDigits: '1234568', // intersection, in 0-9 order
      bannedPrefixes: ['0', '9'],
    });
  });

  it('clamps the longest requested length into [minLength, maxLength]', () => {
    expect(mergePinRules(BASE, { length: 12 }).length).toBe(8);
    expect(mergePinRules({ ...BASE, length: 4 }, { minLength: 6 }).length).toBe(6);
    expect(mergePinRules(BASE, { length: 5 }).length).toBe(6); // longest wins, not the override
  });

  it('throws a clear conflict when minLength > maxLength', () => {
    expect(() => mergePinRules(BASE, { minLength: 7 }, { maxLength: 6 })).toThrow(PinRulesConflictError);
    expect(() => mergePinRules(BASE, { minLength: 7 }, { maxLength: 6 })).toThrow(/at least 7 digits.*at most 6/);
  });

  it('throws when fewer than two digits are left', () => {
    expect(() => mergePinRules(BASE, { allowedDigits: '123' }, { allowedDigits: '345' })).toThrow(/only the digit 3/);
    expect(() => mergePinRules(BASE, { allowedDigits: '12' }, { allowedDigits: '34' })).toThrow(PinRulesConflictError);
  });

  it('throws when every allowed digit is banned as a first digit, or a prefix is empty', () => {
    expect(() => mergePinRules(BASE, { allowedDigits: '12' }, { bannedPrefixes: ['1', '2'] })).toThrow(PinRulesConflictError);
    expect(() => mergePinRules(BASE, { bannedPrefixes: [''] })).toThrow(PinRulesConflictError);
    // Banning two-digit prefixes is fine.
    expect(mergePinRules(BASE, { allowedDigits: '12' }, { bannedPrefixes: ['11', '22'] }).allowedDigits).toBe('12');
  });

  it('throws on nonsense lengths', () => {
    expect(() => mergePinRules({ ...BASE, minLength: 0 })).toThrow(PinRulesConflictError);
    expect(() => mergePinRules(BASE, { maxLength: 6.5 })).toThrow(PinRulesConflictError);
  });

  it('does not mutate its inputs', () => {
    const base = structuredClone(BASE);
    const over = { bannedPrefixes: ['9'] };
    mergePinRules(base, over);
    expect(base).toEqual(BASE);
    expect(over).toEqual({ bannedPrefixes: ['9'] });
  });
});

describe('isTrivialPin', () => {
  it.each(['111111', '0000', '123456', '654321', '0123', '3210', '890123', '901234', '109876', '121212', '1212', '123123', '907907', '2'])(
    'flags %s',
    (pin) => expect(isTrivialPin(pin)).toBe(true),
  );

  it.each(['123321', '1221', '12321', '482915', '1231', '12312', '135790', '112233', '1357', '9021'])(
    'allows %s',
    (pin) => expect(isTrivialPin(pin)).toBe(false),
  );
});

describe('pinRuleViolation', () => {
  const rules: PinRules = { length: 6, minLength: 6, maxLength: 6, allowedDigits: '123456789', bannedPrefixes: ['99', '5'] };
  const expectNoEcho = (pin: string) => {
    const reason = pinRuleViolation(pin, rules);
    expect(reason).not.toBeNull();
    expect(reason).not.toContain(pin);
    return reason!;
  };

  it('accepts a good PIN', () => {
    expect(pinRuleViolation('482917', rules)).toBeNull();
  });

  it('explains wrong length without echoing the PIN', () => {
    expect(expectNoEcho('48291')).toMatch(/exactly 6 digits/);
    expect(expectNoEcho('4829176')).toMatch(/exactly 6 digits/);
    expect(pinRuleViolation('48', BASE)).toMatch(/4–8 digits/);
  });

  it('explains disallowed and non-digit characters', () => {
    expect(expectNoEcho('482910')).toMatch(/only use the digits 123456789/);
    expect(expectNoEcho('48a917')).toMatch(/digits only/);
  });

  it('explains a banned prefix without revealing which one', () => {
    const reason = expectNoEcho('992817');
    expect(reason).toMatch(/reserved prefix/);
    expect(reason).not.toMatch(/99/);
    expect(expectNoEcho('528174')).toMatch(/reserved prefix/);
  });

  it('explains trivial PINs', () => {
    expect(expectNoEcho('234567')).toMatch(/too easy to guess/);
    expect(expectNoEcho('343434')).toMatch(/too easy to guess/);
  });
});

describe('pinsClash', () => {
  it('clashes when equal or one is a prefix of the other', () => {
    expect(pinsClash('4829', '4829')).toBe(true);
    expect(pinsClash('4829', '482917')).toBe(true);
    expect(pinsClash('482917', '4829')).toBe(true);
  });

  it('does not clash otherwise', () => {
    expect(pinsClash('4829', '4828')).toBe(false);
    expect(pinsClash('482917', '829170')).toBe(false);
    expect(pinsClash('1482', '482')).toBe(false);
  });
});

describe('generatePin', () => {
  const ruleSets: PinRules[] = [
    BASE,
    { length: 6, minLength: 6, maxLength: 6, allowedDigits: '123456789', bannedPrefixes: ['0', '9'] },
    { length: 4, minLength: 4, maxLength: 4, allowedDigits: '13579', bannedPrefixes: ['1', '33'] },
    { length: 8, minLength: 6, maxLength: 10, allowedDigits: '01', bannedPrefixes: ['00'] },
  ];

  it.each(ruleSets)('generated PINs always satisfy %j', (rules) => {
    for (let i = 0; i < 500; i++) {
      const pin = generatePin(rules, () => false);
      expect(pin).toHaveLength(rules.length);
      expect(pinRuleViolation(pin, rules)).toBeNull();
      // Double-check each rule independently of pinRuleViolation.
      expect([...pin].every((d) => rules.allowedDigits.includes(d))).toBe(true);
      expect(rules.bannedPrefixes.some((p) => pin.startsWith(p))).toBe(false);
      expect(isTrivialPin(pin)).toBe(false);
    }
  });

  it('uses every allowed digit (no bias towards a subset)', () => {
    const rules = ruleSets[1];
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) for (const d of generatePin(rules, () => false)) seen.add(d);
    expect([...seen].sort().join('')).toBe('123456789');
  });

  it('never returns a taken PIN, so a loop with isTaken yields unique PINs', () => {
    const rules: PinRules = { length: 4, minLength: 4, maxLength: 4, allowedDigits: '0123456789', bannedPrefixes: [] };
    const issued = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const pin = generatePin(rules, (p) => issued.has(p));
      expect(issued.has(pin)).toBe(false);
      issued.add(pin);
    }
    expect(issued.size).toBe(300);
  });

  it('respects prefix clashes when isTaken uses pinsClash', () => {
    const live = ['4829', '5555'];
    const rules: PinRules = { length: 6, minLength: 4, maxLength: 6, allowedDigits: '0123456789', bannedPrefixes: [] };
    // Deterministic "random" source that first offers 482917 (clashes with 4829), then 731946.
    const seq = [4, 8, 2, 9, 1, 7, 7, 3, 1, 9, 4, 6];
    let i = 0;
    const pin = generatePin(rules, (p) => live.some((l) => pinsClash(l, p)), () => seq[i++]);
    expect(pin).toBe('731946');
  });

  it('draws from the injected randomInt with the number of allowed digits', () => {
    const maxes: number[] = [];
    const seq = [0, 3, 1, 4]; // → '1', '4', '2', '5' from '123456789'
    let i = 0;
    const pin = generatePin({ ...ruleSets[1], length: 4, minLength: 4 }, () => false, (max) => {
      maxes.push(max);
      return seq[i++];
    });
    expect(pin).toBe('1425');
    expect(maxes).toEqual([9, 9, 9, 9]);
  });

  it('uses crypto.randomInt by default (a real CSPRNG, so results vary)', () => {
    const pins = new Set(Array.from({ length: 50 }, () => generatePin(BASE, () => false)));
    expect(pins.size).toBeGreaterThan(45);
  });

  it('throws PinSpaceExhaustedError when everything is taken, suggesting a longer PIN, without leaking PINs', () => {
    const rules: PinRules = { length: 5, minLength: 4, maxLength: 8, allowedDigits: '0123456789', bannedPrefixes: [] };
    let calls = 0;
    let last = '';
    const err = (() => {
      try {
        generatePin(rules, (p) => {
          calls++;
          last = p;
          return true;
        });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected generatePin to throw');
    })();
    expect(err).toBeInstanceOf(PinSpaceExhaustedError);
    expect(err.message).toMatch(/longer PIN length/);
    expect(err.message).toMatch(/up to 8/);
    expect(err.message).not.toContain(last);
    // Bounded: it gave up instead of spinning.
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(1000);
  });

  it('gives up when only trivial PINs can be drawn', () => {
    expect(() => generatePin(BASE, () => false, () => 1)).toThrow(PinSpaceExhaustedError);
  });

  it('refuses unsatisfiable rules and a broken random source', () => {
    expect(() => generatePin({ ...BASE, length: 9 }, () => false)).toThrow(PinRulesConflictError);
    expect(() => generatePin({ ...BASE, allowedDigits: '7' }, () => false)).toThrow(PinRulesConflictError);
    expect(() => generatePin(BASE, () => false, (max) => max)).toThrow(RangeError);
  });

  it('works with the real crypto.randomInt passed explicitly', () => {
    expect(pinRuleViolation(generatePin(BASE, () => false, randomInt), BASE)).toBeNull();
  });
});
