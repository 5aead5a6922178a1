// Prisma CLI config. Offline here: the classic schema engine is a binary Prisma downloads
// at run time, so we use the JS schema engine with driver adapters (see shared design notes).
// HERON_PRISMA_PROVIDER=postgres points the CLI at the derived PostgreSQL schema.
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";

const postgres = process.env.HERON_PRISMA_PROVIDER === "postgres";
process.env.DATABASE_URL ??= postgres ? "postgres://127.0.0.1:5432/test" : "file:./.heron/heron.db";
const url = process.env.DATABASE_URL;

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: postgres ? path.join("prisma", "postgres", "schema") : path.join("prisma", "schema"),
  async adapter() {
    return postgres ? new PrismaPg({ connectionString: url }) : new PrismaBetterSQLite3({ url });
  },
});
