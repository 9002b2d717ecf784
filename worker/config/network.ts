/**
 * Where a monitor connects: the network (testnet, mainnet or custom) with its REST and WebSocket
 * URLs and chain id, each checked (scheme, the /stream path, what a custom network must name).
 */
import { describe } from "./alerts.ts";
import type { Network } from "./types.ts";

export const NETWORKS = {
  testnet: {
    rest: "https://testnet.zklighter.elliot.ai",
    ws: "wss://testnet.zklighter.elliot.ai/stream",
    chainId: 300,
  },
  mainnet: {
    rest: "https://mainnet.zklighter.elliot.ai",
    ws: "wss://mainnet.zklighter.elliot.ai/stream",
    chainId: 304,
  },
} as const;

/** The readers of one MONITORS entry's fields, each reporting its own problems. */
export interface FieldReaders {
  str(k: string): string | null;
  int(k: string, min: number, max: number, def: number | null): number | null;
  err(setting: string, message: string, fix: string): void;
  warn(setting: string, message: string, fix: string): void;
}

/** The entry's network, its URLs and chain id (defaults from NETWORKS), reporting every problem. */
export function parseNetwork({ str, int, err, warn }: FieldReaders): {
  network: Network;
  restUrl: string;
  wsUrl: string;
  chainId: number;
} {
  const network = (str("network") ?? "testnet") as Network;
  let restUrl: string = NETWORKS.testnet.rest;
  let wsUrl: string = NETWORKS.testnet.ws;
  let chainId: number = NETWORKS.testnet.chainId;
  if (network === "testnet" || network === "mainnet") {
    restUrl = str("rest_url") ?? NETWORKS[network].rest;
    wsUrl = str("ws_url") ?? NETWORKS[network].ws;
    chainId = int("chain_id", 0, 2 ** 31 - 1, NETWORKS[network].chainId) ?? NETWORKS[network].chainId;
  } else if (network === "custom") {
    const r = str("rest_url");
    const w = str("ws_url");
    const c = int("chain_id", 0, 2 ** 31 - 1, null);
    if (!r) err("rest_url", "a custom network needs rest_url", 'set "rest_url": "https://…"');
    if (!w) err("ws_url", "a custom network needs ws_url", 'set "ws_url": "wss://…/stream"');
    if (c === null) err("chain_id", "a custom network needs chain_id (304 mainnet, 300 testnet)", 'set "chain_id"');
    restUrl = r ?? "";
    wsUrl = w ?? "";
    chainId = c ?? 0;
  } else {
    err(
      "network",
      `unknown network ${describe(network)}`,
      'use "testnet" (default), "mainnet" or "custom" with rest_url, ws_url and chain_id',
    );
  }
  for (const [k, u, schemes] of [
    ["rest_url", restUrl, ["http:", "https:"]],
    ["ws_url", wsUrl, ["ws:", "wss:"]],
  ] as const) {
    if (!u) continue;
    try {
      const p = new URL(u);
      if (!(schemes as readonly string[]).includes(p.protocol))
        err(k, `${k} must use ${schemes.join(" or ")}`, `fix the scheme of ${k}`);
      if (k === "ws_url" && !p.pathname.endsWith("/stream"))
        warn(k, "Lighter's WebSocket path is /stream", "end ws_url with /stream");
    } catch {
      err(k, `${k} is not a URL`, `set ${k} to a full URL`);
    }
  }

  return { network, restUrl, wsUrl, chainId };
}
