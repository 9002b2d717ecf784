/**
 * Where the CLI writes: results to stdout, messages to stderr. A buffered stdout writer that waits
 * for the pipe to drain (so a slow reader never makes memory grow), and the EPIPE handling that
 * lets `fillwatch … | head -1` end quietly with exit 0.
 */
import { once } from "node:events";

export const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
export const err = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

/** Lines to stdout in ~64 KB writes, awaiting 'drain' whenever the pipe is full. */
export class LineWriter {
  private buf: string[] = [];
  private size = 0;

  async line(s: string): Promise<void> {
    this.buf.push(s, "\n");
    this.size += s.length + 1;
    if (this.size >= 65_536) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = this.buf.join("");
    this.buf = [];
    this.size = 0;
    if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
  }
}

/** A reader that went away (EPIPE) is not an error: stop at once with exit 0, no stack trace. */
export function handleClosedPipes(): void {
  for (const s of [process.stdout, process.stderr]) {
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") process.exit(0);
      process.exit(2);
    });
  }
}
