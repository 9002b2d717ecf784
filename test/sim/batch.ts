/**
 * `POST /api/v1/sendTxBatch` as LIVE.md L.13.10 has it: form fields `tx_types` (a JSON string such
 * as "[14,14]") and `tx_infos` (a JSON string of tx_info strings); one `code` for the whole batch
 * and `tx_hash` an array. Errors: 21513 lengths differ, 21514 more than 50 txs (the docs' limit;
 * clients send at most 15), 21121 txs of more than one account or API key, 21105 nonces not
 * increasing. The txs are then handed to the exchange in order; the first that fails ends the
 * batch with its code (the ones before it stand, their hashes listed).
 */
import { parseExact } from "./json.ts";

export const BATCH_MAX = 50;

type Reply = { status: number; body: Record<string, unknown> };

interface One {
  status: number;
  body: Record<string, unknown>;
  start: () => void;
}

function fail(code: number, message: string): Reply & { starts: (() => void)[] } {
  return { status: 400, body: { code, message }, starts: [] };
}

/** Validates and submits a batch; `starts` begins each accepted tx's execution once the reply is out. */
export function sendTxBatch(
  form: Record<string, string>,
  submit: (txType: number, txInfo: string) => One,
): Reply & { starts: (() => void)[] } {
  let types: unknown;
  let infos: unknown;
  try {
    types = JSON.parse(form.tx_types ?? "");
    infos = JSON.parse(form.tx_infos ?? "");
  } catch {
    return fail(20001, "invalid param : tx_types and tx_infos must be JSON arrays");
  }
  if (!Array.isArray(types) || !Array.isArray(infos) || !infos.every((i) => typeof i === "string"))
    return fail(20001, "invalid param : tx_types and tx_infos must be JSON arrays");
  if (types.length !== infos.length) return fail(21513, "tx_types and tx_infos lengths differ");
  if (types.length === 0) return fail(20001, "invalid param : empty batch");
  if (types.length > BATCH_MAX) return fail(21514, `too many txs in a batch: at most ${BATCH_MAX}`);
  let owner: string | null = null;
  let lastNonce: bigint | null = null;
  for (const text of infos as string[]) {
    let info: Record<string, unknown>;
    try {
      info = parseExact(text) as Record<string, unknown>;
    } catch {
      return fail(21501, "invalid tx info");
    }
    const who = `${String(info.AccountIndex)}:${String(info.ApiKeyIndex)}`;
    if (owner !== null && who !== owner) return fail(21121, "batch txs must share one account and API key");
    owner = who;
    const nonce = typeof info.Nonce === "bigint" ? info.Nonce : null;
    if (nonce === null) return fail(21501, "invalid tx info");
    if (lastNonce !== null && nonce <= lastNonce) return fail(21105, "nonces in a batch must increase");
    lastNonce = nonce;
  }
  const hashes: string[] = [];
  const starts: (() => void)[] = [];
  for (let i = 0; i < types.length; i++) {
    const out = submit(Number(types[i]), (infos as string[])[i]!);
    if (out.status !== 200) return { status: out.status, body: { ...out.body, tx_hash: hashes }, starts };
    hashes.push(String(out.body.tx_hash));
    starts.push(out.start);
  }
  return {
    status: 200,
    body: { code: 200, message: '{"ratelimit": "Ratelimit is off"}', tx_hash: hashes },
    starts,
  };
}
