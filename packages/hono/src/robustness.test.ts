import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { signDelivery } from "@kallima/webhooks-conformance";
import {
  BOUNDED_READ_BYTES,
  runNodeRobustnessSuite,
  TEST_SERVER_TIMEOUTS,
  UPLOAD_CAP_BYTES,
  uploadPastLimit,
} from "@kallima/webhooks-conformance/node-robustness";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { kallimaWebhooks } from "./index.js";

const PATH = "/kallima-events";

/** Serves a Hono app on @hono/node-server, with Node's request timeouts set. */
async function serveApp(app: Hono, requestTimeoutMs: number) {
  const server = await new Promise<ServerType>((resolve) => {
    const started: ServerType = serve(
      {
        fetch: app.fetch,
        hostname: "127.0.0.1",
        port: 0,
        serverOptions: {
          requestTimeout: requestTimeoutMs,
          headersTimeout: Math.min(requestTimeoutMs, 60_000),
          ...TEST_SERVER_TIMEOUTS,
        },
      },
      () => resolve(started),
    );
  });
  // serve() makes an HTTP/1.1 server unless told to make an HTTP/2 one.
  const node = server as Server;
  return {
    server: node,
    port: (node.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        node.close(() => resolve());
        node.closeAllConnections();
      }),
  };
}

runNodeRobustnessSuite("hono on @hono/node-server", {
  bodyReader: "core",
  // Hono sees a Fetch Request: Headers join repeats as "a, b" (see the README).
  repeatedHeaders: "joined",
  // A Fetch Response cannot ask Node to close the connection: see the tests below.
  after413: "unchecked",
  async start({ requestTimeoutMs, ...options }) {
    const app = new Hono();
    app.all(PATH, kallimaWebhooks({ logger: false, ...options }));
    return { ...(await serveApp(app, requestTimeoutMs)), path: PATH };
  },
});

describe("an upload that goes on after its 413, on @hono/node-server (README: known gaps)", () => {
  async function start() {
    const app = new Hono();
    app.all(
      PATH,
      kallimaWebhooks({
        secret: "whsec_honoUploadSecret_0123456789abcdef",
        maxBodyBytes: 1024,
        logger: false,
      }),
    );
    return { ...(await serveApp(app, 10_000)), path: PATH };
  }
  const headers = Object.entries(signDelivery("{}").headers);

  it("chunked: stops reading once past the limit, and the connection is closed", async () => {
    const app = await start();
    try {
      const upload = await uploadPastLimit(app, headers, "chunked");
      expect(upload.response.status).toBe(413);
      expect(await upload.client.closedWithin(3000)).toBe(true);
      expect(upload.serverBytesRead()).toBeLessThan(BOUNDED_READ_BYTES);
    } finally {
      await app.close();
    }
  });

  it("a Content-Length over the limit: 413 at once, then Node reads the rest of the upload", async () => {
    const app = await start();
    try {
      const upload = await uploadPastLimit(app, headers, "length");
      expect(upload.response.status).toBe(413);
      // Node drains an unread body to keep the connection; requestTimeout bounds how long.
      await expect.poll(upload.serverBytesRead).toBeGreaterThanOrEqual(UPLOAD_CAP_BYTES);
      upload.client.socket.destroy();
    } finally {
      await app.close();
    }
  });
});

describe("a bad value from the secret function (the core reports it)", () => {
  it("swallows a rejection of an async onError (a logger whose sink is down)", async () => {
    const told: string[] = [];
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", record);
    try {
      const app = new Hono();
      app.all(
        PATH,
        kallimaWebhooks({
          // A missing binding: not a secret, so the handler cannot be made.
          secret: () => "",
          logger: false,
          onError: async (error) => {
            told.push(error.code);
            throw new Error("log sink unreachable");
          },
        }),
      );
      const response = await app.request(PATH, { method: "POST", body: "{}" });
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_secret" } });
      expect(told).toEqual(["invalid_secret"]);
      // An unhandled rejection is reported once the microtask queue drains.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", record);
    }
  });
});
