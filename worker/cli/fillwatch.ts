/**
 * The `fillwatch` CLI entry: the Lighter library from a shell, for debugging your own account and
 * checking the library from outside, plus the deployed monitor's status. Finds the command (one
 * file each under commands/), parses its flags, runs it. Results go to stdout only; everything
 * else to stderr. Exit 0 success/valid, 1 failed verification (or an unreachable deployment),
 * 2 usage or input error. A private key or token is never printed.
 */
import { KeyError } from "../lighter/keys.ts";
import { TxError } from "../lighter/tx.ts";
import { UsageError, closest, commandHelp, parseFlags, type Command } from "./args.ts";
import { authTokenCreate } from "./commands/auth-token-create.ts";
import { authTokenVerify } from "./commands/auth-token-verify.ts";
import { check } from "./commands/check.ts";
import { configCheck } from "./commands/config-check.ts";
import { keysPubkey } from "./commands/keys-pubkey.ts";
import { replay } from "./commands/replay.ts";
import { StatusError, status } from "./commands/status.ts";
import { txSign } from "./commands/tx-sign.ts";
import { txVerify } from "./commands/tx-verify.ts";
import { err, handleClosedPipes } from "./output.ts";

declare const __FILLWATCH_VERSION__: string;
/** Embedded from package.json by scripts/build-cli.mjs. */
export const VERSION = typeof __FILLWATCH_VERSION__ === "string" ? __FILLWATCH_VERSION__ : "0.0.0-dev";

const COMMANDS: Command[] = [
  keysPubkey,
  txSign,
  txVerify,
  authTokenCreate,
  authTokenVerify,
  replay,
  configCheck,
  status,
  check,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `fillwatch ${VERSION} — Lighter fill-detection health checker (CLI)`,
    "",
    "Usage: fillwatch <command> [flags]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "`fillwatch <command> --help` shows a command's flags. `fillwatch --version` prints the version.",
    "Results go to stdout; messages to stderr. Exit codes: 0 ok/valid, 1 failed verification (or a",
    "status request that failed), 2 usage or input error. The private key may also come from the env",
    "var FILLWATCH_PRIVATE_KEY.",
    "",
  ].join("\n");
}

/** `tx` alone (or `tx --help`): the group's subcommands. */
function groupHelp(group: string, cmds: Command[]): string {
  const width = Math.max(...cmds.map((c) => c.name.length));
  return [`fillwatch ${group}:`, ...cmds.map((c) => `  fillwatch ${c.name.padEnd(width)}  ${c.summary}`), ""].join(
    "\n",
  );
}

export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    (first ? process.stdout : process.stderr).write(help());
    return first ? 0 : 2;
  }
  if (first === "--version" || first === "-V") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const two = second === undefined ? undefined : COMMANDS.find((c) => c.name === `${first} ${second}`);
  const cmd = two ?? COMMANDS.find((c) => c.name === first);
  if (!cmd) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    if (group.length > 0) {
      if (second === "--help" || second === "-h") {
        process.stdout.write(groupHelp(first, group));
        return 0;
      }
      const near =
        second === undefined
          ? undefined
          : closest(
              second,
              group.map((c) => c.name.slice(first.length + 1)),
            );
      process.stderr.write(groupHelp(first, group));
      throw new UsageError(
        second === undefined
          ? `${first} needs a subcommand`
          : `unknown command "${first} ${second.slice(0, 40)}"${near ? ` (did you mean "${first} ${near}"?)` : ""}`,
      );
    }
    const near = closest(
      first,
      COMMANDS.map((c) => c.name.split(" ")[0]!),
    );
    throw new UsageError(
      `unknown command ${JSON.stringify(first.slice(0, 40))}${near ? ` (did you mean ${near}?)` : " (try --help)"}`,
    );
  }
  const f = parseFlags(argv.slice(cmd.name.split(" ").length), cmd.flags);
  if (f === "help") {
    process.stdout.write(commandHelp(cmd));
    return 0;
  }
  return cmd.run(f);
}

handleClosedPipes();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof StatusError) {
      err(`fillwatch: ${e.message}`);
      process.exitCode = 1;
      return;
    }
    if (e instanceof UsageError || e instanceof KeyError || e instanceof TxError || e instanceof RangeError) {
      err(`fillwatch: ${e.message}`);
    } else {
      err(`fillwatch: unexpected error: ${e instanceof Error ? e.message : "unknown"}`);
    }
    process.exitCode = 2;
  },
);
