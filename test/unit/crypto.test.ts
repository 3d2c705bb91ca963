import { createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMasterKey, MasterKeyError, SecretBox, SecretBoxError } from '../../src/security/crypto.js';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);

function flipByte(sealed: string, index: number): string {
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  raw[index] ^= 0x01;
  return `v1.${raw.toString('base64url')}`;
}

describe('SecretBox', () => {
  const box = new SecretBox(KEY);

  it.each(['', 'hunter2', 'pässwörd ✓ 🔑', 'x'.repeat(100_000)])('round-trips %#', (plaintext) => {
    const sealed = box.seal(plaintext);
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(box.open(sealed)).toBe(plaintext);
  });

  it('produces v1. + base64url(iv 12 | tag 16 | ciphertext)', () => {
    const sealed = box.seal('abc');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(Buffer.from(sealed.slice(3), 'base64url')).toHaveLength(12 + 16 + 3);
  });

  it('does not contain the plaintext', () => {
    const sealed = box.seal('super-secret-api-token');
    expect(sealed).not.toContain('super-secret');
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain('super-secret');
  });

  it('uses a fresh IV each time, so equal plaintexts seal differently', () => {
    const a = box.seal('same');
    const b = box.seal('same');
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(3), 'base64url').subarray(0, 12)).not.toEqual(Buffer.from(b.slice(3), 'base64url').subarray(0, 12));
    expect(box.open(a)).toBe('same');
    expect(box.open(b)).toBe('same');
  });

  it.each([
    ['the IV', 0],
    ['the tag', 12],
    ['the ciphertext', 28],
  ])('detects tampering with %s', (_, index) => {
    const sealed = box.seal('attack at dawn');
    expect(() => box.open(flipByte(sealed, index))).toThrow(SecretBoxError);
  });

  it('rejects truncation, garbage and unknown versions', () => {
    const sealed = box.seal('attack at dawn');
    expect(() => box.open(sealed.slice(0, -2))).toThrow(SecretBoxError);
    expect(() => box.open('v1.AAAA')).toThrow(/truncated/);
    expect(() => box.open('v1.not base64!')).toThrow(/base64url/);
    expect(() => box.open(`v2.${sealed.slice(3)}`)).toThrow(/unknown format/);
    expect(() => box.open('')).toThrow(SecretBoxError);
  });

  it('fails with a different key, and the error holds no plaintext', () => {
    const sealed = box.seal('the-plaintext-value');
    let err: unknown;
    try {
      new SecretBox(OTHER_KEY).open(sealed);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecretBoxError);
    const text = `${(err as Error).message} ${(err as Error).stack} ${inspect(err)}`;
    expect(text).not.toContain('the-plaintext-value');
    expect((err as Error).message).toMatch(/different key|modified/);
  });

  describe('known answers (stored data must stay readable across releases)', () => {
    // Recorded from this implementation. If these fail, existing databases can no longer be decrypted
    // or looked up: only change them together with a migration/re-seal.
    it('opens a v1 value sealed by an earlier run', () => {
      expect(box.open('v1.U75OR2Xz5g51Gr7UNx0VmGKoXHomIKWd5QNOXbnMJP-ifBF-ci4TXg')).toBe('known answer');
    });

    it('keyedHash is stable', () => {
      expect(box.keyedHash('4829', 'pin')).toBe('e0a18c64fbb22131078c6d3e7b732baab7b3ad82a6027144ba932a3f76738c91');
    });

    it('derives distinct HKDF-SHA256 subkeys for encryption and hashing', () => {
      const sub = (info: string) => Buffer.from(hkdfSync('sha256', KEY, Buffer.alloc(0), info, 32));
      const encKey = sub('lockstep/secretbox/aes-256-gcm/v1');
      const hashKey = sub('lockstep/secretbox/hmac-sha256/v1');
      expect(encKey).not.toEqual(hashKey);
      expect(box.keyedHash('4829', 'pin')).toBe(createHmac('sha256', hashKey).update('pin\u00004829').digest('hex'));
      expect(box.keyedHash('4829', 'pin')).not.toBe(createHmac('sha256', encKey).update('pin\u00004829').digest('hex'));

      const raw = Buffer.from(box.seal('via subkey').slice(3), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', encKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      expect(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString()).toBe('via subkey');
    });
  });

  it('works across instances with the same key', () => {
    expect(new SecretBox(Buffer.from(KEY)).open(box.seal('shared'))).toBe('shared');
  });

  it('rejects a master key that is not 32 bytes', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(SecretBoxError);
    expect(() => new SecretBox(Buffer.alloc(33))).toThrow(SecretBoxError);
  });

  it('does not expose key material when inspected', () => {
    const shown = inspect(box, { showHidden: true, depth: 5 });
    expect(shown).not.toContain(KEY.toString('hex'));
    expect(shown).not.toMatch(/<Buffer/);
  });

  describe('keyedHash', () => {
    it('is deterministic hex SHA-256', () => {
      const h = box.keyedHash('4829', 'pin');
      expect(h).toMatch(/^[0-9a-f]{64}$/);
      expect(box.keyedHash('4829', 'pin')).toBe(h);
      expect(new SecretBox(Buffer.from(KEY)).keyedHash('4829', 'pin')).toBe(h);
    });

    it('depends on the key, the value and the purpose', () => {
      const h = box.keyedHash('4829', 'pin');
      expect(new SecretBox(OTHER_KEY).keyedHash('4829', 'pin')).not.toBe(h);
      expect(box.keyedHash('4828', 'pin')).not.toBe(h);
      expect(box.keyedHash('4829', 'email')).not.toBe(h);
    });

    it('separates purpose and value unambiguously', () => {
      expect(box.keyedHash('b', 'a')).not.toBe(box.keyedHash('', 'ab'));
      expect(() => box.keyedHash('x', 'p\0q')).toThrow(SecretBoxError);
    });

    it('uses a derived subkey, not the master key or the encryption key directly', () => {
      const h = box.keyedHash('4829', 'pin');
      expect(createHmac('sha256', KEY).update('pin\u00004829').digest('hex')).not.toBe(h);
      expect(h).not.toBe(createHmac('sha256', KEY).update('4829').digest('hex'));
    });
  });
});

describe('loadMasterKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-key-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts 64 hex characters (surrounding whitespace ignored)', () => {
    const key = randomBytes(32);
    expect(loadMasterKey({ envValue: key.toString('hex') })).toEqual(key);
    expect(loadMasterKey({ envValue: ` ${key.toString('hex').toUpperCase()}\n` })).toEqual(key);
  });

  it('accepts base64 and base64url of 32 bytes', () => {
    const key = randomBytes(32);
    expect(loadMasterKey({ envValue: key.toString('base64') })).toEqual(key);
    expect(loadMasterKey({ envValue: key.toString('base64url') })).toEqual(key);
  });

  it('prefers the env value over the key file', () => {
    const key = randomBytes(32);
    const file = join(dir, 'key');
    expect(loadMasterKey({ envValue: key.toString('hex'), keyFile: file })).toEqual(key);
    expect(existsSync(file)).toBe(false);
  });

  it.each([
    ['too short hex', 'abcd'],
    ['63 hex chars', 'a'.repeat(63)],
    ['non-hex 64 chars', 'g'.repeat(64)],
    ['base64 of 16 bytes', Buffer.alloc(16, 1).toString('base64')],
    ['base64 of 33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
    ['empty', ''],
  ])('rejects %s with a helpful message that does not echo the value', (_, value) => {
    let err: unknown;
    try {
      loadMasterKey({ envValue: value, keyFile: join(dir, 'key') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MasterKeyError);
    const message = (err as Error).message;
    expect(message).toContain('LOCKSTEP_SECRET_KEY');
    expect(message).toContain('openssl rand -hex 32');
    if (value.length > 3) expect(message).not.toContain(value);
    // A bad env value must not silently fall back to (and create) a key file.
    expect(existsSync(join(dir, 'key'))).toBe(false);
  });

  it('creates a missing key file (and its directories) with mode 600, then reuses it', () => {
    const file = join(dir, 'nested', 'deeper', 'secret.key');
    const first = loadMasterKey({ keyFile: file });
    expect(first).toHaveLength(32);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.toString('hex'));
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = loadMasterKey({ keyFile: file });
    expect(second).toEqual(first);
  });

  it('generates a different key for a different install', () => {
    const a = loadMasterKey({ keyFile: join(dir, 'a.key') });
    const b = loadMasterKey({ keyFile: join(dir, 'b.key') });
    expect(a).not.toEqual(b);
  });

  it('reads an existing key file written by hand', () => {
    const key = randomBytes(32);
    const file = join(dir, 'key');
    writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600 });
    expect(loadMasterKey({ keyFile: file })).toEqual(key);
  });

  it('rejects a corrupt key file instead of replacing it', () => {
    const file = join(dir, 'key');
    writeFileSync(file, 'not a key\n');
    expect(() => loadMasterKey({ keyFile: file })).toThrow(MasterKeyError);
    expect(() => loadMasterKey({ keyFile: file })).toThrow(/openssl rand -hex 32/);
    expect(readFileSync(file, 'utf8')).toBe('not a key\n');
  });

  it('throws when neither an env value nor a key file is given', () => {
    expect(() => loadMasterKey({})).toThrow(MasterKeyError);
    expect(() => loadMasterKey({})).toThrow(/LOCKSTEP_SECRET_KEY.*openssl rand -hex 32/);
  });

  it('a SecretBox from the loaded key opens what it sealed after a reload', () => {
    const file = join(dir, 'key');
    const sealed = new SecretBox(loadMasterKey({ keyFile: file })).seal('persisted');
    expect(new SecretBox(loadMasterKey({ keyFile: file })).open(sealed)).toBe('persisted');
  });
});
