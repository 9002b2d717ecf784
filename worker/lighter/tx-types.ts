/**
 * The shapes of the Lighter L2 transactions fillwatch signs (14 CreateOrder, 15 CancelOrder,
 * 16 CancelAllOrders, 17 ModifyOrder): their fields in Go struct order, which are 64-bit, the
 * numeric ranges the reference enforces, and the error that names the offending field.
 */

export type TxType = 14 | 15 | 16 | 17;
export const TX_CREATE_ORDER = 14;
export const TX_CANCEL_ORDER = 15;
export const TX_CANCEL_ALL_ORDERS = 16;
export const TX_MODIFY_ORDER = 17;

/** Attribute type → value; keys 1..7 (PROTOCOL.md §6.7). */
export type TxAttributes = Partial<Record<1 | 2 | 3 | 4 | 5 | 6 | 7, number | bigint>>;

interface TxCommon {
  AccountIndex: bigint;
  ApiKeyIndex: number;
  ExpiredAt: bigint;
  Nonce: bigint;
  L2TxAttributes?: TxAttributes | null;
}

export interface CreateOrderTx extends TxCommon {
  txType: 14;
  MarketIndex: number;
  ClientOrderIndex: bigint;
  BaseAmount: bigint;
  Price: number;
  IsAsk: number;
  Type: number;
  TimeInForce: number;
  ReduceOnly: number;
  TriggerPrice: number;
  OrderExpiry: bigint;
}

export interface CancelOrderTx extends TxCommon {
  txType: 15;
  MarketIndex: number;
  Index: bigint;
}

export interface CancelAllOrdersTx extends TxCommon {
  txType: 16;
  TimeInForce: number;
  Time: bigint;
}

export interface ModifyOrderTx extends TxCommon {
  txType: 17;
  MarketIndex: number;
  Index: bigint;
  BaseAmount: bigint;
  Price: number;
  TriggerPrice: number;
}

export type Tx = CreateOrderTx | CancelOrderTx | CancelAllOrdersTx | ModifyOrderTx;

export class TxError extends Error {
  override name = "TxError";
  readonly field: string | null;
  constructor(message: string, field: string | null = null) {
    super(message);
    this.field = field;
  }
}

// Field order of the Go structs (tx_info is Go's encoding/json of them).
export const FIELDS: Record<TxType, readonly string[]> = {
  14: [
    "AccountIndex",
    "ApiKeyIndex",
    "MarketIndex",
    "ClientOrderIndex",
    "BaseAmount",
    "Price",
    "IsAsk",
    "Type",
    "TimeInForce",
    "ReduceOnly",
    "TriggerPrice",
    "OrderExpiry",
    "ExpiredAt",
    "Nonce",
  ],
  15: ["AccountIndex", "ApiKeyIndex", "MarketIndex", "Index", "ExpiredAt", "Nonce"],
  16: ["AccountIndex", "ApiKeyIndex", "TimeInForce", "Time", "ExpiredAt", "Nonce"],
  17: [
    "AccountIndex",
    "ApiKeyIndex",
    "MarketIndex",
    "Index",
    "BaseAmount",
    "Price",
    "TriggerPrice",
    "ExpiredAt",
    "Nonce",
  ],
};
export const BIG_FIELDS = new Set([
  "AccountIndex",
  "ClientOrderIndex",
  "BaseAmount",
  "OrderExpiry",
  "ExpiredAt",
  "Nonce",
  "Index",
  "Time",
]);

// ------------------------------------------------------------------------------ ranges

export const U48 = (1n << 48n) - 1n;
export const I64_MAX = (1n << 63n) - 1n;
export const MAX_ORDER_INDEX = (1n << 60n) - 1n;
export const MAX_U32 = 0xffffffff;
export const ATTR_NIL: Record<number, bigint> = { 1: 0n, 2: 0n, 3: 0n, 4: 0n, 5: 255n, 6: 0n, 7: 0n };
export const MAX_ATTRIBUTES = 4;
