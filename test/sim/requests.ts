/**
 * The simulator's log of recent REST requests (`GET /_sim/requests`), so monitor tests can assert
 * how the client called the exchange — above all that no URL carries an auth token. An entry keeps
 * the method, the path with its query, and whether an Authorization header was present; header
 * values are never kept, and token values found in the URL are replaced by "[redacted]" (the entry
 * says so in `token_in_url`).
 */

export interface RequestEntry {
  seq: number;
  at: number;
  method: string;
  path: string;
  authorization_header: boolean;
  token_in_url: boolean;
  /** The account the request was made for (its query, tx_info or token), when it names one. */
  account: string | null;
}

// An auth token: deadline:account:apikey:signature (LIVE.md L.6), possibly URL-encoded.
const TOKEN = /\d{9,}(?::|%3A)\d+(?::|%3A)\d+(?::|%3A)[0-9a-f]{32,}/gi;
const AUTH_PARAM = /([?&](?:auth|authorization)=)([^&]*)/gi;

export class RequestLog {
  private entries: RequestEntry[] = [];
  private seq = 0;
  private readonly max: number;
  constructor(max = 1000) {
    this.max = max;
  }

  record(method: string, rawUrl: string, hasAuthHeader: boolean, at: number, account: string | null = null): void {
    let tokenInUrl = false;
    const path = rawUrl
      .replace(AUTH_PARAM, (_m, head: string, value: string) => {
        if (value !== "") tokenInUrl = true;
        return `${head}[redacted]`;
      })
      .replace(TOKEN, () => {
        tokenInUrl = true;
        return "[redacted]";
      });
    this.entries.push({
      seq: ++this.seq,
      at,
      method,
      path,
      authorization_header: hasAuthHeader,
      token_in_url: tokenInUrl,
      account,
    });
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
  }

  /** The most recent `limit` entries (oldest first), optionally only those after sequence `since` and of one account. */
  list(limit = 200, since = 0, account: string | null = null): RequestEntry[] {
    return this.entries.filter((e) => e.seq > since && (account === null || e.account === account)).slice(-limit);
  }

  clear(): void {
    this.entries = [];
  }
}
