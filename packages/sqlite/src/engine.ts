/**
 * One SQLite connection on whichever engine this Node has: Node's built-in `node:sqlite` on
 * Node 22.13 and later, better-sqlite3 on Node 20. The queue uses it, and so does the dev
 * server's store (`@kallima/webhooks-dev`); it is a subpath so that a package needing an
 * embedded SQLite file on every supported Node shares this choice instead of copying it.
 *
 * @example
 * ```ts
 * import { openConnection } from "@kallima/webhooks-sqlite/engine";
 *
 * const db = openConnection(":memory:");
 * db.exec("CREATE TABLE notes (body TEXT NOT NULL)");
 * db.transaction(() => db.prepare("INSERT INTO notes (body) VALUES (?)").run("hello"));
 * console.log(db.engine, db.prepare("SELECT body FROM notes").all());
 * db.close();
 * ```
 *
 * @packageDocumentation
 */
import BetterSqlite3 from "better-sqlite3";

/**
 * A prepared statement, as both engines have it: parameters are positional (`?`), rows are plain
 * objects keyed by column name.
 *
 * @example
 * ```ts
 * const row = db.prepare("SELECT body FROM notes WHERE rowid = ?").get(1) as { body: string };
 * ```
 */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/**
 * One connection to a SQLite file, on whichever engine this Node has ({@link openConnection}).
 *
 * @example
 * ```ts
 * const db: SqliteConnection = openConnection("app.db");
 * db.exec("PRAGMA journal_mode = WAL");
 * ```
 */
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
 *
 * @example
 * ```ts
 * const db = openConnection(".kallima/app.db");
 * const { n } = db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number };
 * db.close();
 * ```
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
