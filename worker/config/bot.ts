/**
 * The `bot` block of a watch monitor: the user's bot reports what it saw to
 * `POST /watch/{monitor}/seen` (with the monitor's ingest token), and fillwatch names the fills the
 * bot missed. `window_s`: how long after a fill the bot's report may come; `silence_s`: how long
 * the bot may send nothing (not even a heartbeat) before `bot_ingest_silent`.
 */
import type { ExactJson } from "../lighter/json.ts";
import { numberReader, warnUnknownKeys } from "./block.ts";
import type { BotConfig, ConfigProblem } from "./types.ts";

const BOT_KEYS = new Set(["window_s", "silence_s"]);

/**
 * Parses `bot` (at `at`, e.g. "MONITORS[0]"); null when absent (no bot reconciliation).
 *
 * @example
 * parseBot({ window_s: 5n }, "MONITORS[0]", problems) // { windowMs: 5000, silenceMs: 60000 }
 */
export function parseBot(raw: ExactJson | undefined, at: string, problems: ConfigProblem[]): BotConfig | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    problems.push({
      severity: "error",
      setting: `${at}.bot`,
      message: "bot must be an object",
      fix: 'e.g. "bot": {"window_s": 10, "silence_s": 60}',
    });
    return null;
  }
  const o = raw as { [key: string]: ExactJson };
  warnUnknownKeys(o, BOT_KEYS, "bot", at, problems);
  const num = numberReader(o, "bot", at, problems);
  const windowS = num("window_s", 0.1, 600, 10);
  const silenceS = num("silence_s", 1, 86_400, 60);
  if (silenceS <= windowS)
    problems.push({
      severity: "warning",
      setting: `${at}.bot.silence_s`,
      message: `bot.silence_s ${silenceS} is not above bot.window_s ${windowS}: a bot that batches for the window looks silent`,
      fix: "set bot.silence_s to a few times bot.window_s (the reporter sends a heartbeat every 15 s)",
    });
  return { windowMs: windowS * 1000, silenceMs: silenceS * 1000 };
}
