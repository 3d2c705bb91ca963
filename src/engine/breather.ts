/**
 * Long background passes (the notifier's scans) give the event loop back every few milliseconds.
 * On SQLite every query is synchronous and an awaited query resumes as a microtask, so a pass over
 * a thousand bookings otherwise held the process for seconds: no HTTP request was read and no
 * provider answer handled until it ended (the latency benchmark's multi-second stalls).
 */
export type Breather = () => Promise<void>;

export function breather(sliceMs = 5): Breather {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}
