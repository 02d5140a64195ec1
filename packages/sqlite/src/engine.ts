import BetterSqlite3 from "better-sqlite3";

/** A prepared statement, as both engines have it. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** One connection to the queue file, on whichever engine this Node has. */
export interface SqliteConnection {
  readonly engine: "node:sqlite" | "better-sqlite3";
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  /** Runs `work` in one `BEGIN IMMEDIATE` transaction: all of it is committed, or none. */
  transaction<T>(work: () => T): T;
  close(): void;
}

interface NodeSqlite {
  DatabaseSync: new (
    path: string,
  ) => {
    prepare(sql: string): SqliteStatement;
    exec(sql: string): void;
    close(): void;
  };
}

function builtinSqlite(): NodeSqlite | undefined {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const found = get?.("node:sqlite") as NodeSqlite | undefined;
  return typeof found?.DatabaseSync === "function" ? found : undefined;
}

/**
 * Opens the file with Node's own `node:sqlite` where it exists (Node 22.13 and later) and with
 * better-sqlite3 12 on Node 20. Both are SQLite with the same file format, so processes on
 * different Node versions share one queue file; better-sqlite3's native addon is only loaded
 * when it is used, so Node 22+ never needs it built for its ABI.
 */
export function openConnection(path: string): SqliteConnection {
  const builtin = builtinSqlite();
  if (builtin) {
    const db = new builtin.DatabaseSync(path);
    return {
      engine: "node:sqlite",
      prepare: (sql) => db.prepare(sql),
      exec: (sql) => db.exec(sql),
      transaction(work) {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = work();
          db.exec("COMMIT");
          return result;
        } catch (error) {
          db.exec("ROLLBACK");
          throw error;
        }
      },
      close: () => db.close(),
    };
  }
  const db = new BetterSqlite3(path);
  return {
    engine: "better-sqlite3",
    prepare: (sql) => db.prepare(sql) as unknown as SqliteStatement,
    exec: (sql) => void db.exec(sql),
    transaction: (work) => db.transaction(work).immediate(),
    close: () => void db.close(),
  };
}
