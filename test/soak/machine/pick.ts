/**
 * Which check machine the soak drives: the issue-16 `step()` machine (step.ts) by default, or the
 * pre-#16 order-path core (today.ts) with SOAK_MACHINE=today, to compare the two on the same seed.
 */
import type { AdapterFactory } from "./adapter.ts";
import { stepAdapter } from "./step.ts";
import { todayAdapter } from "./today.ts";

export function machineAdapter(): { name: string; factory: AdapterFactory } {
  if (process.env.SOAK_MACHINE === "today") return { name: "today", factory: todayAdapter };
  return { name: "step", factory: stepAdapter };
}
