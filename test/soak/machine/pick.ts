/**
 * Which check machine the soak drives: the adapter for the code on this branch. Today's is the
 * pre-#16 order-path core (today.ts); when the step() machine lands, its adapter replaces it here.
 */
import type { AdapterFactory } from "./adapter.ts";
import { todayAdapter } from "./today.ts";

export function machineAdapter(): { name: string; factory: AdapterFactory } {
  return { name: "today", factory: todayAdapter };
}
