import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { Database as SqliteDatabase } from "better-sqlite3";
import type { Pool as PgPool } from "pg";

import type { Database } from "./client";

/**
 * Our own migration runner (Prisma's `migrate deploy` fails on PostgreSQL through the JS
 * schema engine here): applies prisma/migrations/<provider>/NNNN_name/migration.sql in order,
 * each in its own transaction, and records it in _heron_migrations. Safe when several server
 * processes start at once: SQLite takes the write lock (BEGIN IMMEDIATE), PostgreSQL an
 * advisory lock.
 */
const MIGRATIONS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../prisma/migrations");

export type Migration = { id: string; sql: string };

export function listMigrations(provider: "sqlite" | "postgres"): Migration[] {
  const dir = path.join(MIGRATIONS_ROOT, provider);
  return fs
    .readdirSync(dir)
    .filter((d) => /^\d{4}_/.test(d))
    .sort()
    .map((id) => ({ id, sql: fs.readFileSync(path.join(dir, id, "migration.sql"), "utf8") }));
}

export async function runMigrations(db: Database): Promise<string[]> {
  const migrations = listMigrations(db.provider);
  return db.provider === "sqlite" ? migrateSqlite(db.sqlite, migrations) : migratePostgres(db.pool, db.schema, migrations);
}

function migrateSqlite(sqlite: SqliteDatabase, migrations: Migration[]): string[] {
  sqlite.exec(`CREATE TABLE IF NOT EXISTS _heron_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`);
  const applied: string[] = [];
  const run = sqlite.transaction(() => {
    const done = new Set(sqlite.prepare(`SELECT id FROM _heron_migrations`).pluck().all() as string[]);
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      sqlite.exec(m.sql);
      sqlite.prepare(`INSERT INTO _heron_migrations (id, applied_at) VALUES (?, ?)`).run(m.id, new Date().toISOString());
      applied.push(m.id);
    }
  });
  run.immediate();
  return applied;
}

async function migratePostgres(pool: PgPool, schema: string, migrations: Migration[]): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext($1))`, [`heron-migrate:${schema}`]);
    await client.query(`CREATE TABLE IF NOT EXISTS _heron_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ id: string }>(`SELECT id FROM _heron_migrations`)).rows.map((r) => r.id));
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      // The generated SQL creates "public" for the default schema; tables land in search_path.
      const sql = m.sql.replace(/CREATE SCHEMA IF NOT EXISTS "public";/g, "");
      await client.query("BEGIN");
      try {
        await client.query(sql);
        await client.query(`INSERT INTO _heron_migrations (id) VALUES ($1)`, [m.id]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${m.id} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.id);
    }
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`heron-migrate:${schema}`]).catch(() => undefined);
    client.release();
  }
  return applied;
}
