import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { openConnection, type SqliteConnection } from "@kallima/webhooks-sqlite/engine";
import { type DevState, emptyState, type StoredDelivery, type StoredWebhook } from "./state.js";
import type { EventObject } from "./wire.js";

/** Why the state file could not be used; `code` is stable. */
export class StateFileError extends Error {
  readonly code: "state_unreadable" | "state_write_failed";

  constructor(code: StateFileError["code"], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StateFileError";
    this.code = code;
  }
}

/**
 * The schema this version writes, recorded in `PRAGMA user_version`. The schema is never migrated:
 * a file of another version is refused with a hint to delete it (it is a development server's
 * scratch state), and a change of schema is a new version number.
 */
const SCHEMA_VERSION = 1;

type Table = "webhooks" | "events" | "deliveries";
const TABLES: readonly Table[] = ["webhooks", "events", "deliveries"];

// Each row holds one stored record as JSON (the shapes of state.ts); `seq` keeps the order they
// were created in, which the API's "newest first" lists rely on. Everything the server reads is
// kept in memory, so no column beyond the id is ever queried.
const SCHEMA = TABLES.map(
  (table) =>
    `CREATE TABLE IF NOT EXISTS ${table} (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, record TEXT NOT NULL);`,
).join("\n");

/**
 * Endpoints, events and deliveries in a SQLite file, opened with the engine
 * `@kallima/webhooks-sqlite` picks for this Node (`node:sqlite` on 22.13+, better-sqlite3 on 20).
 * The server works on the records in memory and tells the store which ones changed; the changes of
 * one tick are written in one transaction, so a crash leaves the state before or after a change,
 * never half of one, and a change costs a row, not a rewrite of the whole state.
 */
export class StateStore {
  readonly path: string | undefined;
  #connection: SqliteConnection | undefined;
  readonly #pending = new Map<Table, Map<string, object>>();
  #scheduled = false;
  #failure: unknown;

  /** `path` undefined keeps the state in memory only (tests, `--no-persist`). */
  constructor(path: string | undefined) {
    this.path = path;
  }

  /** Opens the file (creating it, readable by its owner only: it holds secrets) and reads it. */
  load(): DevState {
    if (this.path === undefined) return emptyState();
    const db = this.#open();
    try {
      const read = <T>(table: Table): T[] =>
        db
          .prepare(`SELECT record FROM ${table} ORDER BY seq`)
          .all()
          .map((row) => JSON.parse((row as { record: string }).record) as T);
      return {
        version: 1,
        webhooks: read<StoredWebhook>("webhooks"),
        events: read<EventObject>("events"),
        deliveries: read<StoredDelivery>("deliveries"),
      };
    } catch (error) {
      throw new StateFileError("state_unreadable", `Cannot read ${this.path}.`, { cause: error });
    }
  }

  saveWebhook(webhook: StoredWebhook): void {
    this.#save("webhooks", webhook.id, webhook);
  }

  saveEvent(event: EventObject): void {
    this.#save("events", event.id, event);
  }

  saveDelivery(delivery: StoredDelivery): void {
    this.#save("deliveries", delivery.id, delivery);
  }

  /** Writes every change so far; rejects if a write failed. */
  async flush(): Promise<void> {
    this.#write();
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      throw new StateFileError("state_write_failed", `Cannot write ${this.path}.`, {
        cause: failure,
      });
    }
  }

  /** Writes every change so far and closes the file; a change after it opens the file again. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.#connection?.close();
      this.#connection = undefined;
    }
  }

  #save(table: Table, id: string, record: object): void {
    if (this.path === undefined) return;
    let rows = this.#pending.get(table);
    if (!rows) {
      rows = new Map();
      this.#pending.set(table, rows);
    }
    // The record itself, not a copy: the write saves it as it is by then.
    rows.set(id, record);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Let the current tick's other changes join this transaction.
    queueMicrotask(() => this.#write());
  }

  #write(): void {
    this.#scheduled = false;
    if (this.#pending.size === 0) return;
    const changes = [...this.#pending];
    this.#pending.clear();
    const reopened = this.#connection === undefined;
    try {
      const db = this.#connection ?? this.#open();
      db.transaction(() => {
        for (const [table, rows] of changes) {
          const upsert = db.prepare(
            `INSERT INTO ${table} (id, record) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record`,
          );
          for (const [id, record] of rows) upsert.run(id, JSON.stringify(record));
        }
      });
    } catch (error) {
      this.#failure ??= error;
    } finally {
      // A change saved after close() is written, and the file is closed again.
      if (reopened) {
        this.#connection?.close();
        this.#connection = undefined;
      }
    }
  }

  #open(): SqliteConnection {
    const path = this.path!;
    let db: SqliteConnection;
    try {
      mkdirSync(dirname(path), { recursive: true });
      // Created before SQLite opens it so that it is the owner's only; SQLite gives its journal
      // files the same permissions.
      closeSync(openSync(path, "a", 0o600));
      db = openConnection(path);
    } catch (error) {
      throw new StateFileError("state_unreadable", `Cannot open ${path}.`, { cause: error });
    }
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      const { user_version: version } = db.prepare("PRAGMA user_version").get() as {
        user_version: number;
      };
      const { tables } = db.prepare("SELECT count(*) AS tables FROM sqlite_master").get() as {
        tables: number;
      };
      if (version === 0 && tables === 0) {
        db.exec("PRAGMA journal_mode = WAL");
        db.transaction(() => {
          db.exec(SCHEMA);
          db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
        });
      } else if (version !== SCHEMA_VERSION) {
        throw new StateFileError(
          "state_unreadable",
          `${path} is not a version ${SCHEMA_VERSION} dev server state (delete it to start afresh).`,
        );
      }
      // WAL with NORMAL: a commit is one append, and a crash loses at most the last changes.
      db.exec("PRAGMA synchronous = NORMAL");
    } catch (error) {
      db.close();
      if (error instanceof StateFileError) throw error;
      throw new StateFileError(
        "state_unreadable",
        `${path} is not the dev server's SQLite state (delete it to start afresh).`,
        { cause: error },
      );
    }
    this.#connection = db;
    return db;
  }
}
