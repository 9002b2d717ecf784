/**
 * URL rules for configuration: what counts as a loopback address, and the rule for URLs a monitor
 * sends to (heartbeat, alert targets): https, or plain http only to a loopback address.
 */

/** 127.0.0.0/8 in the dotted form the URL parser gives every IPv4 host (it folds 127.1, 0x7f.0.0.1, …). */
const IPV4_LOOPBACK = /^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)$/;

/**
 * Whether `url` names a loopback host: exactly `localhost`, an address in 127.0.0.0/8 or `[::1]`,
 * read from the parsed URL's host (never a prefix of the text: `127.0.0.1.evil.example` is a domain).
 *
 * @example
 * isLoopback("http://127.0.0.1:8787/h")          // true
 * isLoopback("http://127.0.0.1.evil.example/h")  // false
 */
export function isLoopback(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === "localhost" || host === "[::1]" || IPV4_LOOPBACK.test(host);
}

/**
 * Why `url` may not receive a monitor's notifications, or null when it may.
 *
 * @example
 * outboundUrlProblem("http://example.com/hook") // "must use https (plain http only to localhost, 127.0.0.0/8 or [::1]; the host here is example.com)"
 */
export function outboundUrlProblem(url: string): string | null {
  let p: URL;
  try {
    p = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (p.protocol === "https:") return null;
  if (p.protocol === "http:")
    return isLoopback(url)
      ? null
      : `must use https (plain http only to localhost, 127.0.0.0/8 or [::1]; the host here is ${p.hostname.slice(0, 80)})`;
  return `must use https, not ${p.protocol.replace(/:$/, "").slice(0, 20)}`;
}
