/** One row of the benchmark table. Every figure is measured in the same run as its baseline. */
export interface BenchRow {
  /** Which part: "signer", "simulator", "monitor", ... */
  suite: string;
  /** What was measured, e.g. "CreateOrder sign (steady state)". */
  name: string;
  value: number;
  unit: string;
  /** The baseline measured in the same run, when there is one. */
  baseline?: { name: string; value: number };
  /** value / baseline.value */
  ratio?: number;
  note?: string;
}

export interface BenchSuite {
  name: string;
  run(): Promise<BenchRow[]>;
}
