/** Timing for the CPU rows of the benches (Node): the median of repeated runs. */

/** Median of five timed runs of `fn` after one warm-up run (ms). */
export function medianMs(fn: () => void): number {
  fn();
  const ts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[2]!;
}
