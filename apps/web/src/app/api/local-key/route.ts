import { headers } from "next/headers";

export const dynamic = "force-dynamic";

/**
 * The local dashboard key, for a page that outlived a server restart (the key is per process,
 * so the page's old one stops working). Same exposure as the page itself: the server sets
 * this header only for loopback requests in local mode, and the response carries no CORS
 * header, so other sites cannot read it.
 */
export async function GET() {
  const key = (await headers()).get("x-heron-local-key");
  return Response.json({ key }, { headers: { "cache-control": "no-store" } });
}
