/**
 * URL rules for configuration: what counts as a loopback address, and the rule for URLs a monitor
 * sends to (heartbeat, alert targets): https, or plain http only to a loopback address.
 */

export function isLoopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === "localhost" || h.startsWith("127.") || h === "[::1]" || h === "::1";
  } catch {
    return false;
  }
}

/**
 * Why `url` may not receive a monitor's notifications, or null when it may.
 *
 * @example
 * outboundUrlProblem("http://example.com/hook") // "must use https (plain http only to a loopback address)"
 */
export function outboundUrlProblem(url: string): string | null {
  let p: URL;
  try {
    p = new URL(url);
  } catch {
    return "is not a URL";
  }
  if (p.protocol === "https:") return null;
  if (p.protocol === "http:") return isLoopback(url) ? null : "must use https (plain http only to a loopback address)";
  return `must use https, not ${p.protocol.replace(/:$/, "").slice(0, 20)}`;
}
