/** FillMonitor: one per (network, account, API key); owns the Lighter session and order state. */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../worker/env.ts";

export class FillMonitor extends DurableObject<Env> {
  ping(): string {
    return "pong";
  }
}
