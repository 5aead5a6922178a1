import type http from "node:http";

/**
 * Set on every answer. Next.js hydrates with inline scripts, so scripts allow 'unsafe-inline'
 * from our own origin only; nothing may frame the dashboard (clickjacking of Cancel/Revoke).
 */
export function setSecurityHeaders(res: http.ServerResponse, dev: boolean) {
  const script = dev ? "'self' 'unsafe-inline' 'unsafe-eval'" : "'self' 'unsafe-inline'";
  res.setHeader(
    "Content-Security-Policy",
    `default-src 'self'; script-src ${script}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'`,
  );
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "strict-origin-when-cross-origin");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
}
