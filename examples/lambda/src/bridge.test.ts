import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { httpApiBridge } from "./bridge.js";

describe("the local HTTP API bridge", () => {
  const servers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of servers.splice(0)) await close();
  });

  async function bridgeTo(answer: (event: APIGatewayProxyEventV2) => unknown) {
    const events: APIGatewayProxyEventV2[] = [];
    const server = createServer(
      httpApiBridge(async (event) => {
        events.push(event);
        return answer(event) as never;
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(() => new Promise((resolve) => server.close(() => resolve())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, events };
  }

  it("sends payload 2.0 events: lowercase joined headers, base64 for bodies that are not text", async () => {
    const { url, events } = await bridgeTo(() => ({ statusCode: 204 }));
    const bytes = new Uint8Array([0xff, 0x00, 0x7b]);
    // node:http sends an array value as one header line per value (fetch would join them).
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const sent = request(`${url}/kallima-events?x=1`, { method: "POST" }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      sent.setHeader("Content-Type", "application/octet-stream");
      sent.setHeader("X-Repeat", ["a", "b"]);
      sent.on("error", reject);
      sent.end(bytes);
    });
    expect(status).toBe(204);
    const [event] = events;
    expect(event).toMatchObject({
      version: "2.0",
      rawPath: "/kallima-events",
      rawQueryString: "x=1",
      isBase64Encoded: true,
      requestContext: { http: { method: "POST", path: "/kallima-events" } },
    });
    expect(event!.headers["x-repeat"]).toBe("a,b");
    expect(Buffer.from(event!.body!, "base64")).toEqual(Buffer.from(bytes));
  });

  it("passes a JSON body as text and answers a bare value as API Gateway does (200 JSON)", async () => {
    const { url, events } = await bridgeTo(() => ({ ok: true }));
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"é":1}',
    });
    expect([response.status, await response.json()]).toEqual([200, { ok: true }]);
    expect(events[0]).toMatchObject({ body: '{"é":1}', isBase64Encoded: false });
  });
});
