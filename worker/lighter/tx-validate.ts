/**
 * The reference signer's static rules for a transaction (lighter-go L2TxAttributes and per-type
 * ranges): `validate` throws a TxError naming the field; no clock, no product policy (that is
 * tx-policy.ts). Also the attribute normalisation both validation and hashing use.
 */
import {
  U48,
  I64_MAX,
  MAX_ORDER_INDEX,
  MAX_U32,
  ATTR_NIL,
  MAX_ATTRIBUTES,
  TxError,
  type Tx,
  type TxAttributes,
} from "./tx-types.ts";

function isPerp(m: number): boolean {
  return m >= 0 && m <= 254;
}
function isSpot(m: number): boolean {
  return m >= 2048 && m <= 4094;
}

/**
 * The reference signer's static rules (lighter-go `Validate`), no clock. Throws TxError naming
 * the field. Unlike the reference's WASM, prices above 2^32−1 are rejected, not truncated.
 */
export function validate(tx: Tx): void {
  const f = (cond: boolean, field: string, message: string) => {
    if (!cond) throw new TxError(message, field);
  };
  f(tx.AccountIndex >= -1n && tx.AccountIndex <= U48 - 1n, "AccountIndex", "AccountIndex must be -1 … 2^48-2");
  f(
    Number.isInteger(tx.ApiKeyIndex) &&
      tx.ApiKeyIndex >= 0 &&
      (tx.ApiKeyIndex <= 254 || (tx.txType === 16 && tx.ApiKeyIndex === 255)),
    "ApiKeyIndex",
    "ApiKeyIndex must be 0 … 254 (255 only for cancel-all)",
  );
  f(tx.Nonce >= 0n && tx.Nonce <= I64_MAX, "Nonce", "Nonce must be ≥ 0");
  f(tx.ExpiredAt >= 0n && tx.ExpiredAt <= U48, "ExpiredAt", "ExpiredAt must be 0 … 2^48-1 (ms)");
  const attrs = normalizeAttributes(tx.L2TxAttributes ?? null);
  switch (tx.txType) {
    case 14: {
      const perp = isPerp(tx.MarketIndex);
      f(
        Number.isInteger(tx.MarketIndex) && (perp || isSpot(tx.MarketIndex)),
        "MarketIndex",
        "MarketIndex is not valid (perp 0 … 254, spot 2048 … 4094)",
      );
      f(
        tx.ClientOrderIndex >= 0n && tx.ClientOrderIndex <= U48,
        "ClientOrderIndex",
        "ClientOrderIndex must be 0 (nil) or 1 … 2^48-1",
      );
      f(tx.BaseAmount <= U48, "BaseAmount", `BaseAmount should not be larger than ${U48}`);
      f(
        tx.BaseAmount >= 1n || (tx.BaseAmount === 0n && tx.ReduceOnly === 1),
        "BaseAmount",
        "BaseAmount must be ≥ 1 (0 only with ReduceOnly)",
      );
      f(Number.isInteger(tx.Price) && tx.Price >= 1, "Price", "OrderPrice should not be less than 1");
      f(tx.Price <= MAX_U32, "Price", "OrderPrice should not be larger than 2^32-1");
      f(tx.IsAsk === 0 || tx.IsAsk === 1, "IsAsk", "IsAsk must be 0 or 1");
      f(Number.isInteger(tx.Type) && tx.Type >= 0 && tx.Type <= 6, "Type", "OrderType is not valid (0 … 6)");
      f(
        Number.isInteger(tx.TimeInForce) && tx.TimeInForce >= 0 && tx.TimeInForce <= 2,
        "TimeInForce",
        "OrderTimeInForce is not valid",
      );
      f(tx.ReduceOnly === 0 || tx.ReduceOnly === 1, "ReduceOnly", "ReduceOnly is invalid");
      f(!(tx.ReduceOnly === 1 && !perp), "ReduceOnly", "ReduceOnly is invalid (spot orders cannot be reduce-only)");
      f(
        Number.isInteger(tx.TriggerPrice) && tx.TriggerPrice >= 0 && tx.TriggerPrice <= MAX_U32,
        "TriggerPrice",
        "TriggerPrice is invalid",
      );
      f(tx.OrderExpiry >= 0n && tx.OrderExpiry <= I64_MAX, "OrderExpiry", "OrderExpiry is invalid");
      const IOC = 0,
        GTT = 1;
      switch (tx.Type) {
        case 0: // limit
          f(tx.TriggerPrice === 0, "TriggerPrice", "TriggerPrice is invalid (limit orders have none)");
          if (tx.TimeInForce === IOC)
            f(tx.OrderExpiry === 0n, "OrderExpiry", "OrderExpiry is invalid (IOC orders have none)");
          else f(tx.OrderExpiry !== 0n, "OrderExpiry", "OrderExpiry is invalid (GTT and post-only orders need one)");
          break;
        case 1: // market
          f(tx.TimeInForce === IOC, "TimeInForce", "OrderTimeInForce is not valid (market orders are IOC)");
          f(tx.OrderExpiry === 0n, "OrderExpiry", "OrderExpiry is invalid (market orders have none)");
          f(tx.TriggerPrice === 0, "TriggerPrice", "TriggerPrice is invalid (market orders have none)");
          break;
        case 2:
        case 4: // stop-loss, take-profit
          f(perp, "MarketIndex", "MarketIndex is not valid (trigger orders are perps only)");
          f(tx.TimeInForce === IOC, "TimeInForce", "OrderTimeInForce is not valid (must be IOC)");
          f(tx.TriggerPrice !== 0, "TriggerPrice", "TriggerPrice is invalid (must be set)");
          f(tx.OrderExpiry !== 0n, "OrderExpiry", "OrderExpiry is invalid (must be set)");
          break;
        case 3:
        case 5: // stop-loss-limit, take-profit-limit
          f(perp, "MarketIndex", "MarketIndex is not valid (trigger orders are perps only)");
          f(tx.TriggerPrice !== 0, "TriggerPrice", "TriggerPrice is invalid (must be set)");
          f(tx.OrderExpiry !== 0n, "OrderExpiry", "OrderExpiry is invalid (must be set)");
          break;
        case 6: // TWAP
          f(tx.TimeInForce === GTT, "TimeInForce", "OrderTimeInForce is not valid (TWAP is GTT)");
          f(tx.TriggerPrice === 0, "TriggerPrice", "TriggerPrice is invalid (TWAP has none)");
          f(tx.OrderExpiry !== 0n, "OrderExpiry", "OrderExpiry is invalid (must be set)");
          break;
      }
      break;
    }
    case 15:
      f(
        Number.isInteger(tx.MarketIndex) && (isPerp(tx.MarketIndex) || isSpot(tx.MarketIndex)),
        "MarketIndex",
        "MarketIndex is not valid",
      );
      f(
        tx.Index >= 1n && tx.Index <= MAX_ORDER_INDEX,
        "Index",
        "OrderIndex must be a client order index (1 … 2^48-1) or an order index (2^48 … 2^60-1)",
      );
      break;
    case 16:
      f(
        Number.isInteger(tx.TimeInForce) && tx.TimeInForce >= 0 && tx.TimeInForce <= 2,
        "TimeInForce",
        "CancelAll TimeInForce is not valid",
      );
      f(tx.Time >= 0n && tx.Time <= I64_MAX, "Time", "CancelAllTime is invalid");
      if (tx.TimeInForce !== 1) f(tx.Time === 0n, "Time", "CancelAllTime should be nil");
      else f(tx.Time !== 0n, "Time", "CancelAllTime is required for a scheduled cancel-all");
      if (attrs.has(5) && attrs.get(5) !== 255n)
        f(
          tx.TimeInForce === 0,
          "L2TxAttributes",
          "Cancel all for market index can't be scheduled, TimeInforce must be ImmediateCancelAll",
        );
      break;
    case 17:
      f(
        Number.isInteger(tx.MarketIndex) && (isPerp(tx.MarketIndex) || isSpot(tx.MarketIndex)),
        "MarketIndex",
        "MarketIndex is not valid",
      );
      f(tx.Index >= 1n && tx.Index <= MAX_ORDER_INDEX, "Index", "OrderIndex must be 1 … 2^60-1");
      f(tx.BaseAmount >= 0n && tx.BaseAmount <= U48, "BaseAmount", `BaseAmount should not be larger than ${U48}`);
      f(Number.isInteger(tx.Price) && tx.Price >= 1 && tx.Price <= MAX_U32, "Price", "OrderPrice must be 1 … 2^32-1");
      f(
        Number.isInteger(tx.TriggerPrice) && tx.TriggerPrice >= 0 && tx.TriggerPrice <= MAX_U32,
        "TriggerPrice",
        "TriggerPrice is invalid",
      );
      break;
    default:
      throw new TxError(`unsupported tx type ${String((tx as { txType: unknown }).txType)}`, "TxType");
  }
}

/** Allowed value range per attribute type (lighter-go AttributeTypeToConfig). */
const ATTR_RANGE: Record<number, readonly [bigint, bigint]> = {
  1: [0n, U48 - 1n], // integrator account index
  2: [0n, 1_000_000n], // integrator taker fee (FeeTick)
  3: [0n, 1_000_000n], // integrator maker fee
  4: [1n, 1n], // skip tx nonce
  5: [0n, 255n], // cancel-all market index (255 = nil)
  6: [0n, 3n], // self-trade behaviour: expire maker, expire taker, cancel both, reduce
  7: [0n, 1n], // self-trade equality: account index, master account index
};

/**
 * The attributes as given, validated like the reference's L2TxAttributes.Validate: every present
 * type is range-checked (so {"4":0} is refused), at most 4, fees need an integrator, self-trade
 * modes cannot be combined with fees, "reduce" cannot be combined with master-account equality.
 */
export function normalizeAttributes(attrs: TxAttributes | null): Map<number, bigint> {
  const out = new Map<number, bigint>();
  if (!attrs) return out;
  for (const [k, v] of Object.entries(attrs)) {
    const t = Number(k);
    if (v === undefined) continue;
    const range = ATTR_RANGE[t];
    if (!Number.isInteger(t) || !range) throw new TxError(`unknown L2TxAttributes type ${k}`, "L2TxAttributes");
    const val = BigInt(v);
    if (val < range[0] || val > range[1])
      throw new TxError(`L2TxAttributes ${k} must be ${range[0]} … ${range[1]}`, "L2TxAttributes");
    out.set(t, val);
  }
  if (out.size > MAX_ATTRIBUTES) throw new TxError(`at most ${MAX_ATTRIBUTES} L2TxAttributes`, "L2TxAttributes");
  const isSet = (t: number) => (out.get(t) ?? ATTR_NIL[t]!) !== ATTR_NIL[t];
  const fees = isSet(2) || isSet(3);
  if (fees && !isSet(1))
    throw new TxError("integrator fees need an integrator account index (attribute 1)", "L2TxAttributes");
  if (fees && (isSet(6) || isSet(7)))
    throw new TxError("self-trade modes cannot be combined with integrator fees", "L2TxAttributes");
  if (out.get(6) === 3n && out.get(7) === 1n)
    throw new TxError("self-trade mode reduce cannot be combined with master-account equality", "L2TxAttributes");
  return out;
}

// ------------------------------------------------------------------------------ hashing

/** Go's GoldilocksField(x) cast: the two's-complement uint64 of an int64. */
