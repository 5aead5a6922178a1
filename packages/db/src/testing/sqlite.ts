import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { type Database, openDatabase } from "../client";

/** Opens a migrated SQLite database in a temporary HERON_HOME. */
export async function openTestSqlite(): Promise<{ db: Database; drop(): Promise<void> }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "heron-sqlite-"));
  const db = await openDatabase({ home });
  return {
    db,
    async drop() {
      await db.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
