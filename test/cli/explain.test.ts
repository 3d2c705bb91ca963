/**
 * `lockstep explain` as an operator runs it: a child process on the same database as a running
 * Lockstep, reading the provider live, printing the verdict and the chain, exit code 2 when the
 * person cannot get in.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, secretKey, hoursFromNow, type Harness } from '../support/harness.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('lockstep explain (CLI)', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  const explain = async (hh: Harness, key: string, args: string[]) => {
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'explain', ...args], {
        cwd: root,
        env: { ...process.env, LOCKSTEP_DATABASE_URL: hh.database.url, LOCKSTEP_SECRET_KEY: key, LOCKSTEP_LOG_LEVEL: 'warn' },
      });
      return { code: 0, stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout + e.stderr };
    }
  };

  it('prints the verdict and every link; exit 0 when the person can enter, 2 when a link breaks', async () => {
    const key = secretKey();
    h = await startHarness('sqlite', { secretKey: key });
    const space = await h.space(['ag-front-door', 'ag-meeting-1']);
    const booked = await h.call('POST', '/v1/bookings', { spaceId: space, organiser: { name: 'Ada Lovelace', email: 'ada@example.com' }, start: hoursFromNow(-0.5), end: hoursFromNow(1) }, h.keys.admin);
    const ada = booked.body.organiserId as string;
    await h.converge();

    const ok = await explain(h, key, ['--person', ada, '--space', space]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Ada Lovelace can enter from (?:\S+ \S+ \S+ \S+ )?\d\d:\d\d to (?:\S+ \S+ \S+ \S+ )?\d\d:\d\d by PIN at Front door and Meeting room 1/);
    expect(ok.stdout).toMatch(/✓ provider +Doors holds Front door for Ada Lovelace/);

    await h.call('POST', `/v1/bookings/${booked.body.id}/cancel`, undefined, h.keys.admin);
    await h.converge();
    const json = await explain(h, key, ['--person', ada, '--space', space, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).verdict).toMatchObject({ canEnter: false, broken: 'booking' });

    const wrong = await explain(h, key, ['--person', ada]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('give exactly one of --space <spaceId> or --target <targetRef>');
  });
});
