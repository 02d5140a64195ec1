import { mkdirSync, readFileSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { type DevState, emptyState } from "./state.js";

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
 * Endpoints, events and deliveries in one JSON file, rewritten whole and atomically: written to a
 * temporary file beside it, flushed to disk, then renamed over it, so a crash leaves the old or
 * the new state and never half of one. Writes are coalesced: many changes in one tick cost one
 * write, and a change during a write is saved by the write after it.
 *
 * Why not SQLite: the tests run again on Node 22 and 24 with the same `node_modules`, and a native
 * addon built for one Node ABI does not load on another; a dev tool's state is small enough to
 * rewrite whole.
 */
export class StateFile {
  readonly path: string | undefined;
  #writing: Promise<void> | undefined;
  #dirty = false;
  #snapshot: () => DevState;
  #failure: unknown;

  /** `path` undefined keeps the state in memory only (tests, `--no-persist`). */
  constructor(path: string | undefined, snapshot: () => DevState) {
    this.path = path;
    this.#snapshot = snapshot;
  }

  /** Reads the saved state; a missing file is an empty state. */
  static load(path: string | undefined): DevState {
    if (path === undefined) return emptyState();
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return emptyState();
      throw new StateFileError("state_unreadable", `Cannot read ${path}.`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new StateFileError(
        "state_unreadable",
        `${path} is not the dev server's JSON state (delete it to start afresh).`,
        { cause: error },
      );
    }
    const state = parsed as Partial<DevState>;
    if (state.version !== 1 || !Array.isArray(state.webhooks) || !Array.isArray(state.deliveries)) {
      throw new StateFileError(
        "state_unreadable",
        `${path} is not a version 1 dev server state (delete it to start afresh).`,
      );
    }
    return { ...emptyState(), ...state } as DevState;
  }

  /** Saves the current state soon; many calls in a row cost one write. */
  changed(): void {
    if (this.path === undefined) return;
    this.#dirty = true;
    this.#writing ??= this.#drain();
  }

  /** Resolves once every change so far is on disk; rejects if a write failed. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      throw new StateFileError("state_write_failed", `Cannot write ${this.path}.`, {
        cause: failure,
      });
    }
  }

  async #drain(): Promise<void> {
    // Let the current tick's other changes join this write.
    await Promise.resolve();
    try {
      while (this.#dirty) {
        this.#dirty = false;
        await this.#write(JSON.stringify(this.#snapshot()));
      }
    } catch (error) {
      this.#failure = error;
    } finally {
      this.#writing = undefined;
    }
  }

  async #write(text: string): Promise<void> {
    const path = this.path!;
    mkdirSync(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    const file = await open(temporary, "w", 0o600);
    try {
      await file.writeFile(text, "utf8");
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}
