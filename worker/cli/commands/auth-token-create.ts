/**
 * `fillwatch auth-token create`: a WebSocket auth token for an account's API key. Deadlines that
 * Lighter refuses (more than 8 hours ahead) are exit 2; a past deadline is a warning.
 */
import { createAuthToken } from "../../lighter/auth.ts";
import { authPolicy } from "../../lighter/tx-policy.ts";
import { UsageError, intFlag, type Command } from "../args.ts";
import { err, out } from "../output.ts";
import { PRIVATE_KEY_FLAG, privateKey } from "./keys-pubkey.ts";

export const authTokenCreate: Command = {
  name: "auth-token create",
  summary: "create an auth token for the account WebSocket channels",
  flags: [
    PRIVATE_KEY_FLAG,
    { name: "account", value: "N", help: "account index" },
    { name: "api-key", value: "N", help: "API key index (0-254)" },
    { name: "deadline", value: "UNIX_SECONDS", help: "expiry; at most 8 hours ahead" },
  ],
  async run(f) {
    const key = privateKey(f);
    const account = intFlag(f.need("account"), "account", 0n, (1n << 48n) - 1n);
    const apiKey = Number(intFlag(f.need("api-key"), "api-key", 0n, 254n));
    const deadline = Number(intFlag(f.need("deadline"), "deadline", 0n, 99_999_999_999n));
    const problems = authPolicy(deadline, Math.floor(Date.now() / 1000));
    const refused = problems.filter((p) => p.severity !== "warning");
    if (refused.length) throw new UsageError(refused.map((p) => p.message).join("; "));
    for (const p of problems) err(`warning: ${p.message}`);
    out(createAuthToken(key, { deadline, accountIndex: account, apiKeyIndex: apiKey }));
    return 0;
  },
};
