/** Timing helpers for benchmarks: warm up, then the median of repeated measurements. */

export interface Timing {
  /** Median time of one call, in microseconds. */
  medianUs: number;
  samples: number;
}

/**
 * Calls fn(k) for k = 0, 1, 2, …: `warmup` times unmeasured, then in `samples` batches of `perBatch` calls;
 * each batch's mean is one sample. Batching keeps the timer's own cost out of microsecond-scale figures.
 */
export function measure(fn: (k: number) => unknown, { samples, perBatch = 1, warmup = 10 }: { samples: number; perBatch?: number; warmup?: number }): Timing {
  let k = 0;
  let sink: unknown;
  for (let w = 0; w < warmup; w++) sink = fn(k++);
  const means: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let b = 0; b < perBatch; b++) sink = fn(k++);
    means.push(Number(process.hrtime.bigint() - start) / 1000 / perBatch);
  }
  if (sink === Symbol.for("never")) console.log(sink); // keeps the results alive
  means.sort((a, b) => a - b);
  return { medianUs: means[Math.floor(means.length / 2)], samples };
}

export function formatUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
}
