/**
 * The CreateOrder a `sign` effect asks for, built and signed (pure: key, chain and nonce are given).
 * Both interpreters of the machine, the Durable Object and `fillwatch check --once`, sign through
 * it, so a test order and a flatten carry the same fields whoever sends them. A dry run also
 * verifies the signature locally. The signer may throw; the caller reports that as `sign_failed`.
 */
import type { PrivateKey } from "../../lighter/keys.ts";
import { signTx, TX_CREATE_ORDER, verifyTx } from "../../lighter/tx.ts";
import type { Effect } from "./effects.ts";

/** L2TxAttributes[6]: a self-trade expires the taker (our IOC), never the account's resting orders. */
const SELF_TRADE_EXPIRE_TAKER = 1;

export interface OrderSigner {
  account: bigint;
  apiKeyIndex: number;
  chainId: number;
  key: PrivateKey;
}

export type SignedOrder = { ok: true; txType: number; txInfo: string; txHash: string } | { ok: false; message: string };

export function signOrder(fx: Extract<Effect, { kind: "sign" }>, s: OrderSigner, nonce: bigint): SignedOrder {
  const signed = signTx(
    {
      txType: TX_CREATE_ORDER,
      AccountIndex: s.account,
      ApiKeyIndex: s.apiKeyIndex,
      MarketIndex: fx.market,
      ClientOrderIndex: BigInt(fx.coi),
      BaseAmount: BigInt(fx.baseAmount),
      Price: fx.price,
      IsAsk: fx.isAsk ? 1 : 0,
      Type: 0,
      TimeInForce: 0,
      ReduceOnly: fx.reduceOnly ? 1 : 0,
      TriggerPrice: 0,
      OrderExpiry: 0n,
      ExpiredAt: BigInt(fx.expiredAt),
      Nonce: nonce,
      L2TxAttributes: { 6: SELF_TRADE_EXPIRE_TAKER },
    },
    s.key,
    s.chainId,
  );
  if (fx.dryRun) {
    const v = verifyTx(signed.tx_type, signed.tx_info, s.key.publicKeyHex(), s.chainId);
    if (!v.ok) return { ok: false, message: `local verification failed: ${v.message}` };
  }
  return { ok: true, txType: signed.tx_type, txInfo: signed.tx_info, txHash: signed.tx_hash };
}
