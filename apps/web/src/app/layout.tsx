import type { ReactNode } from "react";
import { headers } from "next/headers";
import "uplot/dist/uPlot.min.css";
import "./globals.css";
import { KeyGate } from "../components/key-gate";

export const metadata = { title: "Heron", description: "Experiment tracking and job runner" };
export const dynamic = "force-dynamic";

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Set by our server only for requests from this machine in local mode; stripped from client input.
  const localKey = (await headers()).get("x-heron-local-key");
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <a href="/" className="brand">Heron</a>
          <nav>
            <a href="/">Projects</a>
            <a href="/jobs">Jobs</a>
            <a href="/runners">Runners</a>
          </nav>
        </header>
        <main>
          <KeyGate localKey={localKey}>{children}</KeyGate>
        </main>
      </body>
    </html>
  );
}
