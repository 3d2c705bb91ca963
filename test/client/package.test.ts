/**
 * `import { LockstepClient } from 'lockstep/client'` works for an installed package: the client is
 * compiled with tsconfig.client.json (what `npm run build` adds) into a scratch copy of the package
 * (this package.json, so its "exports" are the ones tested), then imported by name from Node and
 * type-checked by name from a TypeScript consumer. The repository's own dist/ is left alone.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

describe("the package's lockstep/client export", () => {
  let pkg: string;

  beforeAll(() => {
    pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-package-'));
    fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
    execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.client.json'), '--outDir', path.join(pkg, 'dist')], { cwd: root, stdio: 'pipe' });
  }, 60_000);
  afterAll(() => {
    if (pkg) fs.rmSync(pkg, { recursive: true, force: true });
  });

  it('builds the JavaScript and the declarations the exports name', () => {
    const exported = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).exports['./client'];
    expect(exported).toEqual({ types: './dist/client/index.d.ts', default: './dist/client/index.js' });
    for (const file of [exported.types, exported.default]) expect(fs.existsSync(path.join(pkg, file)), file).toBe(true);
  });

  it('resolves by name from Node, without loading the server', () => {
    const script = [
      "const m = await import('lockstep/client');",
      'console.log(JSON.stringify({ client: typeof m.LockstepClient, error: typeof m.LockstepApiError, verify: typeof m.verifyWebhookSignature }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: pkg, encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ client: 'function', error: 'function', verify: 'function' });
    // Only the client and the signing module it reuses were compiled into this copy: nothing else to load.
    const compiled = fs.readdirSync(path.join(pkg, 'dist'), { recursive: true }).map(String).filter((f) => f.endsWith('.js')).sort();
    expect(compiled).toEqual(['client/client.js', 'client/errors.js', 'client/from-openapi.js', 'client/index.js', 'client/models.js', 'client/openapi.js', 'client/webhooks.js', 'providers/webhook/signing.js']);
  });

  it('type-checks by name from a TypeScript consumer', () => {
    fs.writeFileSync(
      path.join(pkg, 'consumer.ts'),
      [
        "import { LockstepClient, LockstepApiError, verifyWebhookSignature, type Booking } from 'lockstep/client';",
        "const client = new LockstepClient({ baseUrl: 'http://127.0.0.1:3000', apiKey: 'k' });",
        "export const booking: Promise<Booking> = client.createBooking({ spaceId: 'sp_1', organiserId: 'per_1', start: '2026-12-01T09:00:00Z', end: '2026-12-01T10:00:00Z' });",
        "export const ok: boolean = verifyWebhookSignature({ rawBody: '{}', signatureHeader: 't=1,v1=00', secret: 's' }).ok;",
        'export const isError = (e: unknown) => e instanceof LockstepApiError && e.issues.length > 0;',
        '// @ts-expect-error: not a field of a booking',
        "client.createBooking({ spaceId: 'sp_1', roomNumber: 3 });",
        '',
      ].join('\n'),
    );
    const args = [tsc, '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node', '--skipLibCheck', 'consumer.ts'];
    const run = () => execFileSync(process.execPath, args, { cwd: pkg, encoding: 'utf8', stdio: 'pipe' });
    expect(run).not.toThrow();
  }, 60_000);
});
