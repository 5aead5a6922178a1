// Browser tests: Debian chromium driven by playwright-core (`npx playwright install` cannot work
// offline). Shared by every browser test file and bench/dashboard.ts.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.HERON_CHROMIUM ?? "/usr/bin/chromium";
const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const REPO_DIR = path.resolve(WEB_DIR, "../..");
export const RESULTS_DIR = path.join(REPO_DIR, "test-results");

/** Whether browser tests can run. Missing chromium skips them locally but fails in CI. */
export function chromiumAvailable(): boolean {
  const ok = fs.existsSync(CHROMIUM_PATH);
  if (!ok && process.env.CI === "true") throw new Error(`chromium is required in CI but ${CHROMIUM_PATH} is missing (apt-get install -y chromium)`);
  return ok;
}

/** Headless chromium with no network beyond this machine. playwright-core gives each launch a fresh temp profile (its own --user-data-dir). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    ],
  });
}

/** Saves a full-page screenshot as test-results/<name>.png (gitignored) and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Newest mtime of the files the dashboard bundle is built from. */
function newestSource(): number {
  const roots = [
    path.join(WEB_DIR, "src/app"),
    path.join(WEB_DIR, "src/components"),
    path.join(WEB_DIR, "src/lib"),
    path.join(REPO_DIR, "packages/core/src"),
    path.join(WEB_DIR, "next.config.ts"),
  ];
  let newest = 0;
  const walk = (p: string) => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const r of roots) walk(r);
  return newest;
}

function buildIsFresh(): boolean {
  const id = fs.statSync(path.join(WEB_DIR, ".next/BUILD_ID"), { throwIfNoEntry: false });
  return !!id && id.mtimeMs >= newestSource();
}

/**
 * Builds the dashboard (`next build`) unless .next is newer than every source file. Test files
 * run in parallel workers: a lock directory makes one of them build while the others wait.
 */
export async function ensureDashboardBuilt(timeoutMs = 240_000): Promise<void> {
  // outside the tree (nothing to ignore in git) and outside .next (next build wipes it)
  const lock = path.join(os.tmpdir(), `heron-next-build-${crypto.createHash("sha1").update(WEB_DIR).digest("hex").slice(0, 12)}.lock`);
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (buildIsFresh()) return;
    try {
      fs.mkdirSync(lock);
    } catch {
      // another worker is building; a lock older than the timeout belongs to a dead process
      const st = fs.statSync(lock, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs > timeoutMs) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > end) throw new Error("timed out waiting for another process to build the dashboard");
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      if (buildIsFresh()) return;
      const r = spawnSync(process.execPath, [path.join(REPO_DIR, "node_modules/next/dist/bin/next"), "build"], {
        cwd: WEB_DIR,
        env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`next build failed:\n${(r.stdout ?? "").slice(-3000)}\n${(r.stderr ?? "").slice(-3000)}`);
      return;
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** A fresh browser context signed in through the dashboard's own form (team mode). */
export async function signedInPage(browser: Browser, url: string, email: string, password: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${url}/`);
  await page.getByLabel("email").fill(email);
  await page.getByLabel("password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("user-menu").getByText(email).waitFor();
  return page;
}
