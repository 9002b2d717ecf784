/**
 * What an order status string means (PROTOCOL.md §4): whether the order is terminal, and why it
 * ended. A status says nothing about fills: partial fills stay `open` and IOC remainders end
 * `canceled-*` with a fill; the check machine reads fills from `filled_base_amount`
 * (worker/monitor/check/order.ts).
 */

export type StatusReason =
  | "open"
  | "filled"
  | "canceled"
  | "in-progress"
  | "pending"
  | "unknown"
  | "post-only"
  | "reduce-only"
  | "position-not-allowed"
  | "margin-not-allowed"
  | "too-much-slippage"
  | "not-enough-liquidity"
  | "self-trade"
  | "expired"
  | "oco"
  | "child"
  | "liquidation"
  | "invalid-balance";

/**
 * @example
 * classifyStatus("canceled-too-much-slippage") // { terminal: true, reason: "too-much-slippage" }
 */
export function classifyStatus(status: string): { terminal: boolean; reason: StatusReason } {
  switch (status) {
    case "open":
      return { terminal: false, reason: "open" };
    case "in-progress":
      return { terminal: false, reason: "in-progress" };
    case "pending":
      return { terminal: false, reason: "pending" };
    case "filled":
      return { terminal: true, reason: "filled" };
    case "canceled":
      return { terminal: true, reason: "canceled" };
  }
  if (status.startsWith("canceled-")) {
    const r = status.slice("canceled-".length);
    const known: StatusReason[] = [
      "post-only",
      "reduce-only",
      "position-not-allowed",
      "margin-not-allowed",
      "too-much-slippage",
      "not-enough-liquidity",
      "self-trade",
      "expired",
      "oco",
      "child",
      "liquidation",
      "invalid-balance",
    ];
    return { terminal: true, reason: (known as string[]).includes(r) ? (r as StatusReason) : "canceled" };
  }
  return { terminal: false, reason: "unknown" };
}
