import { type NextRequest, NextResponse } from "next/server";

/**
 * A missing run or project answers HTTP 404. Their pages are client components that load their
 * data in the browser, and a notFound() thrown while the page streams arrives after a 200 status
 * line; this proxy asks first. It calls this server's own tRPC endpoint with the caller's
 * credentials (the local key our server adds to local-mode page requests, or the session
 * cookie). When it cannot tell (no credentials, an API key pasted in the browser, a proxy in
 * front) the page loads as before.
 */
export async function proxy(req: NextRequest) {
  const [, kind, raw] = req.nextUrl.pathname.split("/");
  const id = raw ? safeDecode(raw) : null;
  if (!id) return NextResponse.next();
  const found = kind === "runs" ? await existsOnServer(req, "run.get", { runId: id }) : await existsOnServer(req, "project.get", { project: id });
  // a path no route matches: Next renders app/not-found.tsx with status 404
  if (found === false) return NextResponse.rewrite(new URL("/_missing", req.url), { status: 404 });
  return NextResponse.next();
}

export const config = { matcher: ["/runs/:id", "/projects/:name", "/projects/:name/:rest*"] };

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

async function existsOnServer(req: NextRequest, procedure: string, input: Record<string, unknown>): Promise<boolean | null> {
  const host = req.headers.get("host");
  const localKey = req.headers.get("x-heron-local-key");
  const cookie = req.headers.get("cookie");
  if (!host || (!localKey && !cookie)) return null;
  try {
    const res = await fetch(`http://${host}/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, {
      headers: localKey ? { authorization: `Bearer ${localKey}` } : { cookie: cookie! },
      cache: "no-store",
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 404) return false;
    return res.ok ? true : null;
  } catch {
    return null;
  }
}
