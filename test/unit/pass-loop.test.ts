import { describe, expect, it } from 'vitest';
import { PassLoop } from '../../src/engine/pass-loop.js';

const logger = () => {
  const errors: string[] = [];
  return { errors, log: { info() {}, warn() {}, error: (_o: unknown, msg: string) => void errors.push(msg) } };
};
const tick = () => new Promise((r) => setImmediate(r));

describe('PassLoop', () => {
  it('a burst of wakes costs one pass; a request during a pass gets one more pass after it', async () => {
    let passes = 0;
    let release: () => void = () => {};
    const { log } = logger();
    const loop = new PassLoop(
      async () => {
        passes++;
        if (passes === 2) await new Promise<void>((r) => (release = r));
      },
      { name: 'test', logger: () => log, nextDelayMs: () => 60_000 },
    );
    loop.start();
    for (let i = 0; i < 10; i++) loop.wake();
    await tick();
    await tick();
    expect(passes).toBe(1);

    const second = loop.runOnce(); // pass 2 blocks
    await tick();
    const joined = loop.runOnce(); // shares pass 2, and asks for one more
    expect(passes).toBe(2);
    release();
    await Promise.all([second, joined]);
    expect(passes).toBe(3);
    await loop.stop();
    loop.wake();
    await tick();
    expect(passes).toBe(3); // stopped: wakes do nothing
  });

  it('a failing pass is logged and the loop carries on at the next delay', async () => {
    let passes = 0;
    const { errors, log } = logger();
    const loop = new PassLoop(
      async () => {
        passes++;
        if (passes === 1) throw new Error('boom');
      },
      { name: 'demo', logger: () => log, nextDelayMs: () => 5 },
    );
    loop.start();
    await new Promise((r) => setTimeout(r, 60));
    await loop.stop();
    expect(errors[0]).toBe('demo pass failed; will retry');
    expect(passes).toBeGreaterThan(1);
    expect(loop.running).toBe(false);
  });
});
