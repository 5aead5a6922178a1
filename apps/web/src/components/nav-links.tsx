"use client";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "Projects", match: (p: string) => p === "/" || p.startsWith("/projects") || p.startsWith("/runs") || p.startsWith("/compare") },
  { href: "/jobs", label: "Jobs", match: (p: string) => p.startsWith("/jobs") },
  { href: "/runners", label: "Runners", match: (p: string) => p.startsWith("/runners") },
];

export function NavLinks() {
  const path = usePathname() ?? "/";
  return (
    <nav aria-label="main">
      {LINKS.map((l) => (
        <a key={l.href} href={l.href} aria-current={l.match(path) ? "page" : undefined}>
          {l.label}
        </a>
      ))}
    </nav>
  );
}
