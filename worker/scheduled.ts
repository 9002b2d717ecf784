/** Cron entry: asks each configured monitor to run one synthetic check. */
import type { Env } from "./env.ts";

export async function runScheduled(_cron: string, _scheduledTime: number, _env: Env): Promise<void> {
  // Filled in by the monitor issue.
}
