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
  it('with a minimum gap, wakes that keep coming (one per finished sync) cost one pass per gap, and none is lost', async () => {
    let passes = 0;
    const starts: number[] = [];
    const { log } = logger();
    const loop = new PassLoop(
      async () => {
        passes++;
        starts.push(Date.now());
      },
      { name: 'test', logger: () => log, nextDelayMs: () => 60_000, minGapMs: 100 },
    );
    loop.start();
    await tick();
    await tick();
    expect(passes).toBe(1);
    // 300 ms of wakes every 5 ms: without the gap, a pass for nearly every one of them.
    const until = Date.now() + 300;
    while (Date.now() < until) {
      loop.wake();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(passes).toBeGreaterThanOrEqual(2);
    expect(passes).toBeLessThanOrEqual(5);
    // The last wake is honoured: a pass starts after it, once the gap is over.
    const lastWake = Date.now();
    loop.wake();
    await new Promise((r) => setTimeout(r, 250));
    expect(starts.some((t) => t >= lastWake)).toBe(true);
    await loop.stop();
  });
});
