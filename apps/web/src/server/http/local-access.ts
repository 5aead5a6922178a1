import type http from "node:http";

const LOOPBACK_HOSTNAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);
const PROXY_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"];

export function isLoopbackAddress(addr: string | undefined) {
  return !!addr && (addr === "::1" || addr.startsWith("127.") || addr.startsWith("::ffff:127."));
}

function hostnameOf(hostHeader: string): string | null {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * Local mode hands the dashboard an admin key without sign-in — only to the person at this
 * machine: the peer is loopback AND the request names this machine (Host, and Origin when
 * sent) AND no proxy stood in between. A loopback peer alone is not enough: a web page on a
 * rebinding domain (evil.example → 127.0.0.1) reaches us from loopback with its own Host,
 * and a reverse proxy on this host makes every visitor look local.
 */
export function mayReceiveLocalKey(req: http.IncomingMessage, publicUrl: string | undefined): boolean {
  if (!isLoopbackAddress(req.socket.remoteAddress)) return false;
  if (PROXY_HEADERS.some((h) => req.headers[h] !== undefined)) return false;
  const publicHost = publicUrl ? hostnameOf(new URL(publicUrl).host) : null;
  const allowed = (hostHeader: string | undefined) => {
    if (!hostHeader) return false;
    const name = hostnameOf(hostHeader);
    return !!name && (LOOPBACK_HOSTNAMES.has(name) || name === publicHost);
  };
  if (!allowed(req.headers.host)) return false;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    try {
      if (!allowed(new URL(origin).host)) return false;
    } catch {
      return false;
    }
  }
  return true;
}
