import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp as createExpressApp } from "../../../examples/express/src/app.js";
import { createApp as createHonoApp } from "../../../examples/hono/src/app.js";
import {
  type DevServer,
  startDevServer,
  type WebhookDeliveryObject,
  type WebhookObjectWithSecret,
} from "./index.js";
import { call, waitFor } from "./test-support.js";

/**
 * The Express and Hono examples, served on real sockets as their entry points serve them
 * (examples/express/src/main.ts, examples/hono/src/node.ts), with the secret(s) this receiver
 * currently holds: an example restarts with new ones, as a deploy would.
 */
interface ExampleReceiver {
  name: string;
  url: string;
  /** Give the app these secrets (Express: restarted with them, on the same port, as a deploy). */
  holdSecrets(secrets: string[]): Promise<void>;
  /** The events whose handler ran, from the example's GET /kallima-events (every run of it). */
  ran(): Promise<{ id: string; type: string }[]>;
  close(): Promise<void>;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

async function expressReceiver(): Promise<ExampleReceiver> {
  let server: Server | undefined;
  let port = 0;
  /** What the app's earlier runs listed: its list is in memory, and a restart starts it afresh. */
  let ranBefore: { id: string; type: string }[] = [];
  const list = async () => {
    const answer = await fetch(`http://127.0.0.1:${port}/kallima-events`);
    return ((await answer.json()) as { events: { id: string; type: string }[] }).events;
  };
  const start = async (secrets: string[]) => {
    // As its main.ts passes them from KALLIMA_WEBHOOK_SECRET (comma-separated during a rotation).
    server = createServer(
      { requestTimeout: 10_000, headersTimeout: 5_000 },
      createExpressApp({ secret: secrets }),
    );
    port = await listen(server, port);
  };
  // Deployed before the endpoint is registered: it holds a secret Kallima never issued.
  await start(["whsec_notRegisteredYet_0000000000000000"]);
  return {
    name: "express",
    get url() {
      return `http://127.0.0.1:${port}/kallima-events`;
    },
    async holdSecrets(secrets) {
      if (server) {
        ranBefore = [...ranBefore, ...(await list())];
        await closeServer(server);
      }
      await start(secrets);
    },
    async ran() {
      return [...ranBefore, ...(await list())];
    },
    async close() {
      if (server) await closeServer(server);
    },
  };
}

async function honoReceiver(): Promise<ExampleReceiver> {
  // The Hono example takes a secret function: the receiver's secrets can change in place.
  let secrets: string[] = [];
  const app = createHonoApp(() => secrets);
  const server = await new Promise<Server>((resolve) => {
    const started = serve(
      {
        fetch: app.fetch,
        hostname: "127.0.0.1",
        port: 0,
        serverOptions: { requestTimeout: 10_000, headersTimeout: 5_000 },
      },
      () => resolve(started as Server),
    );
  });
  const port = (server.address() as AddressInfo).port;
  return {
    name: "hono",
    url: `http://127.0.0.1:${port}/kallima-events`,
    async holdSecrets(next) {
      secrets = [...next];
    },
    async ran() {
      const answer = await fetch(`http://127.0.0.1:${port}/kallima-events`);
      return ((await answer.json()) as { events: { id: string; type: string }[] }).events;
    },
    close: () => closeServer(server),
  };
}

const EXAMPLES = [
  ["express", expressReceiver],
  ["hono", honoReceiver],
] as const;

let dev: DevServer;
let example: ExampleReceiver;
let failuresLeft = 0;

beforeEach(() => {
  failuresLeft = 0;
  // Each example's handler logs "job … completed" before it records the event. Making that call
  // throw makes the example's own handler fail, with the example's code unchanged.
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    if (failuresLeft > 0 && String(args[0]).startsWith("job ")) {
      failuresLeft -= 1;
      throw new Error("the database is down");
    }
  });
  // The core logs each failed or refused delivery; these tests cause them on purpose.
  vi.spyOn(console, "error").mockImplementation(() => undefined);
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
});

afterEach(async () => {
  await dev?.close();
  await example?.close();
  vi.restoreAllMocks();
});

async function register(): Promise<WebhookObjectWithSecret> {
  const created = await call(dev.url, "POST", "/v1/webhooks", { url: example.url });
  expect(created.status).toBe(201);
  return created.body as WebhookObjectWithSecret;
}

async function trigger(type: string): Promise<WebhookDeliveryObject> {
  const answer = await call(dev.url, "POST", "/v1/dev/events", { type });
  expect(answer.status).toBe(201);
  const [delivery] = (answer.body as { deliveries: WebhookDeliveryObject[] }).deliveries;
  return delivery!;
}

async function deliveryOf(id: string): Promise<WebhookDeliveryObject> {
  return (await call(dev.url, "GET", `/v1/webhook_deliveries/${id}`)).body as WebhookDeliveryObject;
}

describe.each(EXAMPLES)("the dev server delivering to examples/%s", (_name, startExample) => {
  it("retries a handler that fails twice until it succeeds, and the handler's work happens once", async () => {
    dev = await startDevServer({ port: 0, retryDelaysMs: [50, 50, 50, 50] });
    example = await startExample();
    const webhook = await register();
    await example.holdSecrets([webhook.secret]);
    failuresLeft = 2;
    const first = await trigger("job.completed");
    expect(first.response_status).toBe(500);
    await waitFor(async () => (await deliveryOf(first.id)).delivered_at !== null, "the success");
    const done = await deliveryOf(first.id);
    expect(done).toMatchObject({ attempts: 3, response_status: 200 });
    const attempts = (await call(dev.url, "GET", `/v1/dev/deliveries/${first.id}/attempts`))
      .body as { response_status: number }[];
    expect(attempts.map((attempt) => attempt.response_status)).toEqual([500, 500, 200]);
    expect(await example.ran()).toEqual([{ id: done.event_id, type: "job.completed" }]);
  });

  it("runs the handler once for duplicates sent in sequence and concurrently", async () => {
    dev = await startDevServer({ port: 0, retryDelaysMs: [50, 50, 50, 50] });
    example = await startExample();
    const webhook = await register();
    await example.holdSecrets([webhook.secret]);
    const answers = [];
    for (const faults of [{ duplicates: 3 }, { duplicates: 4, concurrent: true }]) {
      const answer = await call(dev.url, "POST", "/v1/dev/events", { type: "job.failed", faults });
      answers.push(answer.body as { deliveries: WebhookDeliveryObject[] });
    }
    const deliveries = answers.flatMap((answer) => answer.deliveries);
    expect(deliveries).toHaveLength(7);
    // A duplicate answered 409 (the same event in progress) is retried, then acknowledged.
    await waitFor(
      async () =>
        (await Promise.all(deliveries.map((d) => deliveryOf(d.id)))).every((d) => d.delivered_at),
      "every duplicate acknowledged",
    );
    const ran = await example.ran();
    expect(ran.map((event) => event.id).sort()).toEqual(
      [...new Set(deliveries.map((d) => d.event_id))].sort(),
    );
    expect(ran).toHaveLength(2);
  });

  it("fails deliveries after a rotation the receiver missed; they succeed once it has the new secret and they are retried", async () => {
    dev = await startDevServer({ port: 0, retryDelaysMs: [200, 200, 200, 200, 200] });
    example = await startExample();
    const webhook = await register();
    await example.holdSecrets([webhook.secret]);
    const rotated = (await call(dev.url, "PATCH", `/v1/webhooks/${webhook.id}?rotate_secret=true`))
      .body as WebhookObjectWithSecret;
    const refused = [await trigger("job.completed"), await trigger("job.failed")];
    for (const delivery of refused) {
      expect(delivery.response_status).toBe(401);
      expect(delivery.response_body).toContain("invalid_signature");
    }
    expect(await example.ran()).toEqual([]);
    await example.holdSecrets([rotated.secret]);
    await waitFor(
      async () =>
        (await Promise.all(refused.map((d) => deliveryOf(d.id)))).every((d) => d.delivered_at),
      "the retries",
    );
    for (const delivery of refused) {
      expect((await deliveryOf(delivery.id)).response_status).toBe(200);
    }
    expect((await example.ran()).map((event) => event.id).sort()).toEqual(
      refused.map((delivery) => delivery.event_id).sort(),
    );
  });
});

// Both examples hold the old and the new secret at once: Hono through its secret function, in
// place; Express restarted with both (KALLIMA_WEBHOOK_SECRET=new,old), as a deploy would.
describe.each(EXAMPLES)(
  "the dev server delivering to examples/%s during a rotation",
  (_name, startExample) => {
    it("loses no delivery when the receiver holds both secrets during a rotation", async () => {
      dev = await startDevServer({ port: 0, retryDelaysMs: [50, 50, 50] });
      example = await startExample();
      const webhook = await register();
      await example.holdSecrets([webhook.secret]);
      const before = await trigger("job.completed");
      // The receiver is given the new secret beside the old one, a delivery is in flight as the
      // secret rotates, and deliveries go on after it.
      const during = trigger("job.failed");
      const rotated = (
        await call(dev.url, "PATCH", `/v1/webhooks/${webhook.id}?rotate_secret=true`)
      ).body as WebhookObjectWithSecret;
      await example.holdSecrets([webhook.secret, rotated.secret]);
      const after = await trigger("webhook.test");
      const all = [before, await during, after];
      await waitFor(
        async () =>
          (await Promise.all(all.map((d) => deliveryOf(d.id)))).every((d) => d.delivered_at),
        "every delivery",
      );
      for (const delivery of all) expect((await deliveryOf(delivery.id)).response_status).toBe(200);
      expect((await example.ran()).map((event) => event.type).sort()).toEqual([
        "job.completed",
        "job.failed",
        "webhook.test",
      ]);
    });
  },
);
