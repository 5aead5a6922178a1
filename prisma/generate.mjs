#!/usr/bin/env node
// Derives the PostgreSQL schema from prisma/schema, generates both Prisma clients, and
// (with --migrations) writes each provider's migration SQL.
//
// Why not `prisma migrate dev`: it needs a shadow database that fails on SQLite here, and
// `migrate deploy` fails on PostgreSQL through the JS schema engine. So migrations are SQL
// produced by `migrate diff` and applied by our own runner (packages/db/src/migrate.ts).
// prisma/migrations/<provider>/schema-snapshot/ holds the schema as of the newest migration,
// so the next migration is `diff(snapshot → current)` and never needs a database; writing a
// migration replaces the snapshot. Migration folders hold only their SQL (applied by id, in
// order, and never edited once written).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const schemaDir = path.join(root, "prisma", "schema");
const pgDir = path.join(root, "prisma", "postgres", "schema");
const prismaBin = path.join(root, "node_modules", ".bin", "prisma");

function derivePostgresSchema() {
  fs.rmSync(pgDir, { recursive: true, force: true });
  fs.mkdirSync(pgDir, { recursive: true });
  for (const file of fs.readdirSync(schemaDir).filter((f) => f.endsWith(".prisma"))) {
    let text = fs.readFileSync(path.join(schemaDir, file), "utf8");
    text = text
      .replace('provider = "sqlite"', 'provider = "postgresql"')
      .replace("generated/sqlite", "generated/postgres")
      .replace("../../packages/", "../../../packages/");
    fs.writeFileSync(path.join(pgDir, file), "// GENERATED from prisma/schema by prisma/generate.mjs — edit the original.\n" + text);
  }
}

function prisma(args, provider) {
  return execFileSync(prismaBin, args, {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: {
      ...process.env,
      HERON_PRISMA_PROVIDER: provider,
      DATABASE_URL:
        provider === "postgres"
          ? (process.env.HERON_MIGRATIONS_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
          : "file:" + path.join(os.tmpdir(), "heron-prisma-cli.db"),
      PRISMA_HIDE_UPDATE_MESSAGE: "1",
    },
  });
}

function writeMigrations(provider, name) {
  const source = provider === "postgres" ? pgDir : schemaDir;
  const migrationsDir = path.join(root, "prisma", "migrations", provider);
  fs.mkdirSync(migrationsDir, { recursive: true });
  const existing = fs
    .readdirSync(migrationsDir)
    .filter((d) => /^\d{4}_/.test(d))
    .sort();
  const snapshot = path.join(migrationsDir, "schema-snapshot");
  const from = existing.length ? ["--from-schema-datamodel", snapshot] : ["--from-empty"];
  if (existing.length && !fs.existsSync(snapshot)) throw new Error(`${path.relative(root, snapshot)} is missing: it is the schema as of ${existing.at(-1)}`);
  const sql = prisma(["migrate", "diff", ...from, "--to-schema-datamodel", source, "--script"], provider);
  if (!/\b(CREATE|ALTER|DROP)\b/.test(sql)) {
    console.log(`[${provider}] schema unchanged — no migration written`);
    return;
  }
  const id = String(existing.length + 1).padStart(4, "0");
  const dir = path.join(migrationsDir, `${id}_${name}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "migration.sql"), sql);
  fs.rmSync(snapshot, { recursive: true, force: true });
  fs.mkdirSync(snapshot, { recursive: true });
  for (const f of fs.readdirSync(source)) fs.copyFileSync(path.join(source, f), path.join(snapshot, f));
  console.log(`[${provider}] wrote ${path.relative(root, dir)}/migration.sql`);
}

derivePostgresSchema();
prisma(["generate"], "sqlite");
prisma(["generate"], "postgres");
const i = process.argv.indexOf("--migrations");
if (i >= 0) {
  const name = process.argv[i + 1] ?? "change";
  writeMigrations("sqlite", name);
  writeMigrations("postgres", name);
}
