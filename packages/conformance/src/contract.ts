import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import {
  CONFORMANCE_SECRET,
  type ConformanceApp,
  type ConformanceEvent,
  type ConformanceLogger,
  type ConformanceOptions,
  type ConformanceTarget,
  type ContractTarget,
  completed,
  errorCode,
  OTHER_SECRET,
  signDelivery,
} from "./index.js";

type Mount = (
  on: ConformanceOptions["on"],
  extra?: Partial<ConformanceOptions>,
) => Promise<ConformanceApp>;

function recordingLogger() {
  const lines: Array<{ level: "error" | "warn"; code: string; status: number }> = [];
  const logger: ConformanceLogger = {
    error: (_message, details) => void lines.push({ level: "error", ...details }),
    warn: (_message, details) => void lines.push({ level: "warn", ...details }),
  };
  return { logger, lines };
}

/**
 * The adapter contract's cases: what every adapter promises its users the same way (the
 * framework's context reaching handlers, secrets from a function and rotations, failures logged,
 * any content type, one verify-only rule). Registered by `runConformanceSuite` when the target
 * gives a `contract`.
 */
export function registerContractCases(
  target: ConformanceTarget,
  contract: ContractTarget,
  mount: Mount,
  open: ConformanceApp[],
): void {
  it("passes the framework's context to handlers as their second argument", async () => {
    const contexts: unknown[] = [];
    const app = await mount({ "job.completed": (_event, context) => void contexts.push(context) });
    expect((await app.send(signDelivery(completed()))).status).toBe(200);
    expect(contexts).toHaveLength(1);
    expect(contract.isFrameworkContext(contexts[0])).toBe(true);
  });

  it("takes the secret from a function of the same context, sync or async", async () => {
    for (const secret of [
      (context: unknown) => (contract.isFrameworkContext(context) ? CONFORMANCE_SECRET : "none"),
      async (context: unknown) =>
        contract.isFrameworkContext(context) ? CONFORMANCE_SECRET : "none",
    ]) {
      let runs = 0;
      const app = await mount({ "job.completed": () => void runs++ }, { secret });
      expect((await app.send(signDelivery(completed()))).status).toBe(200);
      expect(runs).toBe(1);
    }
  });

  it("shares one dedupe store across a rotation driven by a secret function", async () => {
    let current: string | string[] = OTHER_SECRET;
    const seen: ConformanceEvent[] = [];
    const app = await mount(
      { "job.completed": (event) => void seen.push(event) },
      { secret: () => current },
    );
    const body = completed(`evt_rotation_${randomUUID()}`);
    expect((await app.send(signDelivery(body, { secret: OTHER_SECRET }))).status).toBe(200);
    current = [CONFORMANCE_SECRET, OTHER_SECRET];
    const repeat = await app.send(signDelivery(body, { secret: CONFORMANCE_SECRET }));
    expect(JSON.parse(repeat.body)).toMatchObject({ outcome: "duplicate" });
    current = CONFORMANCE_SECRET;
    const old = await app.send(signDelivery(completed(), { secret: OTHER_SECRET }));
    expect([old.status, errorCode(old)]).toEqual([401, "invalid_signature"]);
    expect(seen).toHaveLength(1);
  });

  it("answers a bad value from the secret function with a coded 500, and logs it", async () => {
    const { logger, lines } = recordingLogger();
    const app = await mount({ "job.completed": () => {} }, { secret: () => "", logger });
    const response = await app.send(signDelivery(completed()));
    expect([response.status, errorCode(response)]).toEqual([500, "invalid_secret"]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: "error", code: "invalid_secret" }),
    );
  });

  it("logs a failing handler as an error and a forged delivery as a warning", async () => {
    const { logger, lines } = recordingLogger();
    const app = await mount(
      {
        "job.completed": () => {
          throw new Error("database is down");
        },
      },
      { logger },
    );
    expect((await app.send(signDelivery(completed()))).status).toBe(500);
    expect((await app.send(signDelivery(completed(), { secret: OTHER_SECRET }))).status).toBe(401);
    expect(lines).toEqual([
      expect.objectContaining({ level: "error", code: "handler_failed", status: 500 }),
      expect.objectContaining({ level: "warn", code: "invalid_signature", status: 401 }),
    ]);
  });

  it.each([
    ["application/json", "application/json"],
    ["text/plain", "text/plain; charset=utf-8"],
    ["application/octet-stream", "application/octet-stream"],
    ["no content type", undefined],
  ])("accepts a signed delivery sent as %s", async (_label, contentType) => {
    let runs = 0;
    const app = await mount({ "job.completed": () => void runs++ });
    const delivery = signDelivery(completed());
    const { "content-type": _json, ...rest } = delivery.headers;
    const headers = contentType === undefined ? rest : { ...rest, "content-type": contentType };
    const response = await app.send({ ...delivery, headers });
    expect(response.status).toBe(200);
    expect(runs).toBe(1);
  });

  it("verify-only: hands an authentic event to the app's route, every time it arrives", async () => {
    const app = await contract.setupVerifyOnly({ secret: CONFORMANCE_SECRET, logger: false });
    open.push(app);
    const id = `evt_verify_${randomUUID()}`;
    for (const format of ["x-headers", "kallima-signature"] as const) {
      const response = await app.send(signDelivery(completed(id), { format }));
      expect(response.status).toBe(200);
      // No deduplication in verify-only mode: the route dedupes by event id itself.
      expect(JSON.parse(response.body)).toEqual({ verified: id });
    }
  });

  it("verify-only: answers a forged or stale delivery itself, and the route does not run", async () => {
    const app = await contract.setupVerifyOnly({ secret: CONFORMANCE_SECRET, logger: false });
    open.push(app);
    const forged = await app.send(signDelivery(completed(), { secret: OTHER_SECRET }));
    expect([forged.status, errorCode(forged)]).toEqual([401, "invalid_signature"]);
    const stale = await app.send(
      signDelivery(completed(), { timestamp: Math.floor(Date.now() / 1000) - 3600 }),
    );
    expect([stale.status, errorCode(stale)]).toEqual([401, "timestamp_too_old"]);
    expect(forged.body).not.toContain("verified");
  });

  it("verify-only: refuses handler options with a clear error", async () => {
    const attempt = async () =>
      contract.setupVerifyOnly({ secret: CONFORMANCE_SECRET, on: { "job.completed": () => {} } });
    await expect(attempt()).rejects.toMatchObject({ code: "invalid_option" });
    await expect(attempt()).rejects.toThrow(/only verifies/);
  });

  if ((target.otherMethods ?? "405") === "405") {
    it("verify-only: answers another method with 405 too", async () => {
      const app = await contract.setupVerifyOnly({ secret: CONFORMANCE_SECRET, logger: false });
      open.push(app);
      const response = await app.send({ ...signDelivery(completed()), method: "PUT" });
      expect(response.status).toBe(405);
    });
  }
}

/**
 * Checks that an adapter package re-exports the core's whole user-facing surface, so that users
 * install and import one package.
 *
 * @example
 * ```ts
 * expectExportParity(await import("./index.js"), await import("@kallima/webhooks"));
 * ```
 */
export function expectExportParity(
  adapter: Record<string, unknown>,
  core: Record<string, unknown>,
): void {
  const missing = Object.keys(core).filter((name) => adapter[name] !== core[name]);
  expect(missing).toEqual([]);
  expect(typeof adapter.kallimaWebhooks).toBe("function");
  expect(typeof adapter.verifyKallimaWebhook).toBe("function");
}
