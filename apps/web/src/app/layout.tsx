import "uplot/dist/uPlot.min.css";
import "./globals.css";

import { headers } from "next/headers";
import type { ReactNode } from "react";

import { KeyGate } from "../components/key-gate";
import { NavLinks } from "../components/nav-links";
import { ThemeToggle } from "../components/theme-toggle";
import { UserMenu } from "../components/user-menu";

export const metadata = { title: "Heron", description: "Experiment tracking and job runner" };
export const dynamic = "force-dynamic";

// applied before first paint so a dark-theme user never sees a light flash
const THEME_SCRIPT = `try{var t=localStorage.getItem("heron.theme");if(t==="dark"||t==="light")document.documentElement.dataset.theme=t}catch(e){}`;

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Set by our server only for requests from this machine in local mode; stripped from client input.
  const localKey = (await headers()).get("x-heron-local-key");
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <a href="#content" className="skip">
          Skip to content
        </a>
        <header className="topbar">
          <a href="/" className="brand">
            Heron
          </a>
          <NavLinks />
          <span className="spacer" />
          <UserMenu />
          <ThemeToggle />
        </header>
        <main id="content">
          <KeyGate localKey={localKey}>{children}</KeyGate>
        </main>
      </body>
    </html>
  );
}
