import { spawn } from "node:child_process";
import { once } from "node:events";
import { signPayload } from "@kallima/webhooks-hono/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createApp, DEMO_SECRET, secretOrDemo } from "./app.js";

const SECRET = "whsec_exampleHonoTestSecret_0123456789abcdef";

const event = (id: string, type: string, data: object) =>
  JSON.stringify({
    id,
    type,
    api_version: "2026-04-23",
    created_at: "2026-04-23T10:00:00+00:00",
    data,
  });

/** Any app, whatever its bindings. */
type Requester = {
  request: (input: string, init: RequestInit, env?: object) => Response | Promise<Response>;
};

async function deliver(app: Requester, body: string, secret = SECRET, env?: object) {
  const signed = await signPayload({ secret, payload: body });
  return app.request(
    "/kallima-events",
    { method: "POST", headers: signed.headers, body: signed.body as string },
    env,
  );
}

describe("example app (examples/README.md contract)", () => {
  it("records job.completed, job.failed and webhook.test in order, and lists them on GET", async () => {
    const app = createApp(SECRET);
    expect(await (await app.request("/kallima-events")).json()).toEqual({ events: [] });
    const bodies = [
      event("evt_1", "job.completed", { id: "job_1", status: "completed" }),
      event("evt_2", "job.failed", {
        id: "job_2",
        status: "failed",
        error: { code: "x", message: "y" },
      }),
      event("evt_3", "webhook.test", { webhook_id: "wh_1" }),
      event("evt_4", "humanization.completed", { id: "hum_1" }),
    ];
    for (const body of bodies) expect((await deliver(app, body)).status).toBe(200);
    expect(await (await app.request("/kallima-events")).json()).toEqual({
      events: [
        { id: "evt_1", type: "job.completed" },
        { id: "evt_2", type: "job.failed" },
        { id: "evt_3", type: "webhook.test" },
      ],
    });
  });

  it("takes several secrets from KALLIMA_WEBHOOK_SECRET, comma-separated, during a rotation", async () => {
    const rotated = "whsec_exampleHonoRotatedSecret_0123456789ab";
    expect(secretOrDemo(` ${rotated}, ${SECRET} `)).toEqual([rotated, SECRET]);
    const app = createApp(secretOrDemo(`${rotated},${SECRET}`));
    const test = (id: string) => event(id, "webhook.test", { webhook_id: "w" });
    expect((await deliver(app, test("evt_r1"), rotated)).status).toBe(200);
    expect((await deliver(app, test("evt_r2"), SECRET)).status).toBe(200);
    expect((await deliver(app, test("evt_r3"), DEMO_SECRET)).status).toBe(401);
  });

  it("rejects a delivery signed with another secret and records nothing", async () => {
    const app = createApp(SECRET);
    const response = await deliver(
      app,
      event("evt_x", "webhook.test", { webhook_id: "w" }),
      DEMO_SECRET,
    );
    expect(response.status).toBe(401);
    expect(await (await app.request("/kallima-events")).json()).toEqual({ events: [] });
  });

  it("answers other methods than POST and GET with 405, and runs nothing", async () => {
    const app = createApp(SECRET);
    const signed = await signPayload({
      secret: SECRET,
      payload: event("evt_put", "webhook.test", { webhook_id: "w" }),
    });
    const response = await app.request("/kallima-events", {
      method: "PUT",
      headers: signed.headers,
      body: signed.body as string,
    });
    expect([response.status, response.headers.get("allow")]).toEqual([405, "POST"]);
    expect(await (await app.request("/kallima-events")).json()).toEqual({ events: [] });
  });

  it("gives the secret function the Hono context of the request", async () => {
    let seen: unknown;
    const app = createApp<{ Bindings: { KALLIMA_WEBHOOK_SECRET: string } }>((c) => {
      seen = c.req.path;
      return c.env.KALLIMA_WEBHOOK_SECRET;
    });
    const body = event("evt_ctx", "job.completed", { id: "job_1", status: "completed" });
    expect((await deliver(app, body, SECRET, { KALLIMA_WEBHOOK_SECRET: SECRET })).status).toBe(200);
    expect(seen).toBe("/kallima-events");
  });

  it("reads the secret from a Workers-style binding per request", async () => {
    const app = createApp<{ Bindings: { KALLIMA_WEBHOOK_SECRET: string } }>(
      (c) => c.env.KALLIMA_WEBHOOK_SECRET,
    );
    const body = event("evt_env", "webhook.test", { webhook_id: "w" });
    expect((await deliver(app, body, SECRET, { KALLIMA_WEBHOOK_SECRET: SECRET })).status).toBe(200);
  });
});

describe("Node entry (dist/node.js via @hono/node-server)", () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterEach(() => {
    child?.kill();
  });

  it("prints the ready line, warns about the demo secret, and serves the webhook route", async () => {
    const build = spawn(process.execPath, ["scripts/build.mjs"], { stdio: "ignore" });
    expect((await once(build, "close"))[0]).toBe(0);
    child = spawn(process.execPath, ["dist/node.js"], {
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", KALLIMA_WEBHOOK_SECRET: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      child!.on("close", () => reject(new Error(`exited early: ${stdout}${stderr}`)));
    });
    expect(stderr).toContain("demo secret");
    const signed = await signPayload({
      secret: DEMO_SECRET,
      payload: event("evt_node", "job.completed", { id: "job_1", status: "completed" }),
    });
    const response = await fetch(`${url}/kallima-events`, {
      method: "POST",
      headers: signed.headers,
      body: signed.body as string,
    });
    expect(response.status).toBe(200);
    expect(await (await fetch(`${url}/kallima-events`)).json()).toEqual({
      events: [{ id: "evt_node", type: "job.completed" }],
    });
  }, 30_000);
});
