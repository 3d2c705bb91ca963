/**
 * Secrets at rest: provider credentials and PINs are sealed with AES-256-GCM before they reach the
 * database, and looked up (e.g. "is this PIN already in use?") through a keyed hash so the lookup
 * column does not reveal them either.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const VERSION = 'v1.';
const IV_BYTES = 12; // GCM's native nonce size; random per seal, so never reused under one key.
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HOW_TO_MAKE_KEY = 'generate one with `openssl rand -hex 32`';

/** Decryption/format failures. Messages never contain plaintext or key material. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/** The master key could not be loaded; the message says how to fix it (but never echoes the key). */
export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

function deriveKey(masterKey: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, KEY_BYTES));
}

export class SecretBox {
  // Private fields: keys do not show up in util.inspect/console.log of the box.
  readonly #encKey: Buffer;
  readonly #hashKey: Buffer;

  constructor(masterKey: Buffer) {
    if (!Buffer.isBuffer(masterKey) || masterKey.length !== KEY_BYTES) {
      throw new SecretBoxError(`The master key must be ${KEY_BYTES} bytes`);
    }
    // Separate subkeys (different HKDF info) so a hash can never be related to a ciphertext and
    // each key is used for exactly one algorithm.
    this.#encKey = deriveKey(masterKey, 'lockstep/secretbox/aes-256-gcm/v1');
    this.#hashKey = deriveKey(masterKey, 'lockstep/secretbox/hmac-sha256/v1');
  }

  /** → `v1.` + base64url(iv | tag | ciphertext). The version prefix leaves room for key rotation. */
  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#encKey, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return VERSION + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
  }

  open(sealed: string): string {
    if (typeof sealed !== 'string' || !sealed.startsWith(VERSION)) {
      throw new SecretBoxError('Sealed secret has an unknown format (expected a v1. prefix)');
    }
    const body = sealed.slice(VERSION.length);
    // Buffer.from silently skips invalid characters; check first so garbage is not half-decoded.
    if (!/^[A-Za-z0-9_-]*$/.test(body)) throw new SecretBoxError('Sealed secret is not valid base64url');
    const raw = Buffer.from(body, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('Sealed secret is truncated');
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    const ciphertext = raw.subarray(IV_BYTES + TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#encKey, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      // Do not chain the cause: keep the error free of anything derived from the data.
      throw new SecretBoxError(
        'Could not decrypt secret: it was modified or sealed with a different key (is LOCKSTEP_SECRET_KEY the one used to store it?)',
      );
    }
  }

  /**
   * Deterministic keyed hash for equality lookups without storing the value. `purpose` separates
   * domains so the hash of a PIN cannot be matched against, say, the hash of an email.
   */
  keyedHash(value: string, purpose: string): string {
    // NUL is the separator; allowing it in purpose would make (purpose, value) pairs ambiguous.
    if (purpose.includes('\0')) throw new SecretBoxError('keyedHash purpose must not contain NUL');
    return createHmac('sha256', this.#hashKey).update(`${purpose}\0${value}`, 'utf8').digest('hex');
  }
}

/** 64 hex chars, or base64/base64url of exactly 32 bytes; null otherwise. */
function parseKey(text: string): Buffer | null {
  const v = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) {
    const std = v.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    const buf = Buffer.from(std, 'base64');
    // Re-encode to reject strings Buffer.from decodes leniently (stray bits, mixed garbage).
    if (buf.length === KEY_BYTES && buf.toString('base64').replace(/=+$/, '') === std) return buf;
  }
  return null;
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/**
 * Where the master key comes from, in order: LOCKSTEP_SECRET_KEY (`envValue`), then `keyFile`, which
 * is created on first start so a single-node install works with no setup. Losing the key means losing
 * every stored secret, so a bad env value is an error rather than a fallback to the file.
 */
export function loadMasterKey(opts: { envValue?: string; keyFile?: string }): Buffer {
  if (opts.envValue !== undefined) {
    const key = parseKey(opts.envValue);
    if (!key) {
      throw new MasterKeyError(
        `LOCKSTEP_SECRET_KEY must be a 32-byte key written as 64 hex characters or as base64; ${HOW_TO_MAKE_KEY}`,
      );
    }
    return key;
  }

  if (opts.keyFile !== undefined) {
    const file = opts.keyFile;
    try {
      return keyFromFile(file, readFileSync(file, 'utf8'));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const hex = randomBytes(KEY_BYTES).toString('hex');
    try {
      // 'wx': if another process created the file in the meantime, use theirs rather than overwrite it.
      writeFileSync(file, `${hex}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return keyFromFile(file, readFileSync(file, 'utf8'));
      throw err;
    }
    chmodSync(file, 0o600); // mode on create is subject to umask; make sure.
    return Buffer.from(hex, 'hex');
  }

  throw new MasterKeyError(`No secret key configured: set LOCKSTEP_SECRET_KEY (${HOW_TO_MAKE_KEY}) or configure a key file`);
}

function keyFromFile(file: string, text: string): Buffer {
  const key = parseKey(text);
  if (!key) {
    throw new MasterKeyError(
      `Key file ${file} does not hold a 32-byte key (64 hex characters or base64); ${HOW_TO_MAKE_KEY} ` +
        `or set LOCKSTEP_SECRET_KEY`,
    );
  }
  return key;
}
