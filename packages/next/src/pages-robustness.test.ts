import type { Server } from "node:http";
import { jobCompletedEvent, signPayload } from "@kallima/webhooks/testing";
import {
  exchange,
  RawClient,
  runNodeRobustnessSuite,
  watchProcessErrors,
} from "@kallima/webhooks-conformance/node-robustness";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type KallimaPagesHandler, kallimaWebhooks } from "./pages.js";
import { asNext, close, listen, type NodeHandler, throughNext } from "./test-support/pages.js";

const PATH = "/api/kallima-events";
const SECRET = "whsec_nextPagesRobustnessSecret_0123456789";

const wraps: [string, (route: KallimaPagesHandler) => NodeHandler][] = [
  ["on node:http", asNext],
  [
    "through Next's apiResolver (bodyParser: false)",
    (route) => throughNext(route, { api: { bodyParser: false } }),
  ],
];

for (const [name, wrap] of wraps) {
  runNodeRobustnessSuite(`next Pages Router ${name}`, {
    bodyReader: "core",
    repeatedHeaders: "refused",
    after413: "closed",
    async start({ requestTimeoutMs, ...options }) {
      const { server, port } = await listen(wrap(kallimaWebhooks(options)), requestTimeoutMs);
      return { server, port, path: PATH, close: () => close(server) };
    },
  });

  describe(`next Pages Router ${name}, raw sockets`, () => {
    const servers: Server[] = [];
    let watch: ReturnType<typeof watchProcessErrors>;
    beforeEach(() => {
      watch = watchProcessErrors();
    });
    afterEach(async () => {
      for (const server of servers.splice(0)) await close(server);
      expect(await watch.stop()).toEqual([]);
    });

    it("closes the connection when the app's own code started the answer first", async () => {
      let runs = 0;
      const route = kallimaWebhooks({
        secret: SECRET,
        on: { "job.completed": () => void runs++ },
      });
      // An API route that wraps the webhook route and flushes the headers first, when asked to.
      const wrapper: KallimaPagesHandler = async (req, res) => {
        if (req.headers["x-flush-first"]) res.flushHeaders();
        await route(req, res);
      };
      const { server, port } = await listen(wrap(wrapper));
      servers.push(server);
      const signed = await signPayload({ secret: SECRET, payload: jobCompletedEvent() });
      const headers = Object.entries(signed.headers);
      const body = Buffer.from(signed.body);
      const client = await RawClient.open(port);
      await client.head("POST", PATH, [
        ...headers,
        ["X-Flush-First", "1"],
        ["Content-Length", String(body.length)],
      ]);
      await client.write(body);
      // The status can no longer be set: a cut connection makes Kallima retry.
      expect(await client.closedWithin(3000)).toBe(true);
      expect(runs).toBe(1);
      const retry = await exchange(port, { path: PATH, headers, body });
      expect([retry.status, JSON.parse(retry.body)]).toEqual([
        200,
        { received: true, outcome: "duplicate" },
      ]);
    });
  });
}
