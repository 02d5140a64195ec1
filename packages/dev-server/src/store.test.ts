import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConnection } from "@kallima/webhooks-sqlite/engine";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalKallima, StateFileError } from "./index.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kallima-dev-store-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function refusal(stateFile: string): StateFileError {
  try {
    new LocalKallima({ stateFile });
  } catch (error) {
    expect(error).toBeInstanceOf(StateFileError);
    return error as StateFileError;
  }
  throw new Error(`${stateFile} was accepted`);
}

describe("the state file", () => {
  it("is a SQLite file of schema version 1, created in missing folders, for its owner only", async () => {
    const stateFile = join(dir, "nested", "state.db");
    const kallima = new LocalKallima({ stateFile });
    const created = kallima.createWebhook({ url: "http://127.0.0.1:9/hook" });
    await kallima.close();

    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    const db = openConnection(stateFile);
    expect(db.prepare("PRAGMA user_version").get()).toEqual({ user_version: 1 });
    const rows = db.prepare("SELECT id FROM webhooks").all();
    db.close();
    expect(rows).toEqual([{ id: created.id }]);
  });

  it("keeps every change of one tick, and changes made after close", async () => {
    const stateFile = join(dir, "state.db");
    const kallima = new LocalKallima({ stateFile });
    const first = kallima.createWebhook({ url: "http://127.0.0.1:9/a" });
    const second = kallima.createWebhook({ url: "http://127.0.0.1:9/b" });
    kallima.updateWebhook(first.id, { enabled: false });
    await kallima.close();
    kallima.deleteWebhook(second.id);
    await kallima.close();

    const reopened = new LocalKallima({ stateFile });
    expect(reopened.listWebhooks()).toEqual([
      expect.objectContaining({ id: first.id, enabled: false }),
    ]);
    expect(reopened.snapshot().webhooks.map((webhook) => webhook.id)).toEqual([
      first.id,
      second.id,
    ]);
    await reopened.close();
  });

  it("refuses a file that is not the dev server's SQLite state, with a hint", async () => {
    const stateFile = join(dir, "old.json");
    await writeFile(stateFile, JSON.stringify({ version: 1, webhooks: [], deliveries: [] }));
    const error = refusal(stateFile);
    expect(error.code).toBe("state_unreadable");
    expect(error.message).toContain("delete it to start afresh");
  });

  it("refuses a state of another schema version instead of migrating it", async () => {
    const stateFile = join(dir, "newer.db");
    const db = openConnection(stateFile);
    db.exec("CREATE TABLE webhooks (id TEXT); PRAGMA user_version = 2");
    db.close();
    const error = refusal(stateFile);
    expect(error.code).toBe("state_unreadable");
    expect(error.message).toContain("not a version 1 dev server state");
  });

  it("refuses another program's SQLite file", async () => {
    const stateFile = join(dir, "other.db");
    const db = openConnection(stateFile);
    db.exec("CREATE TABLE notes (body TEXT)");
    db.close();
    expect(refusal(stateFile).code).toBe("state_unreadable");
  });
});
