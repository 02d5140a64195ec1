/**
 * Raw-socket tests of an adapter on a real listening Node server: uploads cut or reset halfway,
 * Node's own request timeout, a reset while the answer is being written, repeated signature
 * headers, and an upload that goes on after its 413. Every case also checks that nothing became
 * an unhandled rejection or an uncaught exception, and that the server still answers the next
 * delivery.
 * Every Node adapter runs it (`@kallima/webhooks-conformance/node-robustness`).
 */
import { once } from "node:events";
import type { Server } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CONFORMANCE_SECRET, type ConformanceEvent, eventBody, signDelivery } from "./index.js";

/** Header lines exactly as sent: a name may appear more than once. */
export type HeaderLines = ReadonlyArray<readonly [name: string, value: string]>;

/** A response as read off the socket. Header names in lowercase; repeats joined with ", ". */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The first complete HTTP/1.1 response in `data`, or undefined while it is incomplete. */
function parseResponse(data: Buffer): RawResponse | undefined {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const [statusLine = "", ...lines] = data.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let offset = headEnd + 4;
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = data.indexOf("\r\n", offset);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(data.subarray(offset, lineEnd).toString("latin1"), 16);
      const start = lineEnd + 2;
      if (data.length < start + size + 2) return undefined;
      if (size === 0) return { status, headers, body: Buffer.concat(parts).toString("utf8") };
      parts.push(data.subarray(start, start + size));
      offset = start + size + 2;
    }
  }
  // A response with neither a length nor chunks (Node's own 408) has no body here.
  const length = Number(headers["content-length"] ?? 0);
  if (data.length < offset + length) return undefined;
  return { status, headers, body: data.subarray(offset, offset + length).toString("utf8") };
}

/**
 * One client connection over `node:net`, so that a test controls every byte: header lines sent as
 * written (repeats included), a body in parts, a half-close or a reset at any point.
 */
export class RawClient {
  private data = Buffer.alloc(0);
  private gone = false;
  private readonly listeners = new Set<() => void>();
  /** Settles once the connection is closed, by either side. */
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.changed();
    });
    // EPIPE or ECONNRESET once the server closes: expected in these tests, and seen as `closed`.
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.gone = true;
        this.changed();
        resolve();
      });
    });
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    return new RawClient(socket);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** Resolves on the next data or close, or after `ms`. */
  private nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.listeners.add(done);
    });
  }

  /** Sends a request line and these header lines, exactly, then the blank line. */
  head(method: string, path: string, headers: HeaderLines): Promise<boolean> {
    const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1"];
    for (const [name, value] of headers) lines.push(`${name}: ${value}`);
    return this.write(`${lines.join("\r\n")}\r\n\r\n`);
  }

  /**
   * Writes bytes, waiting while the socket is backed up. False once the connection is gone, or
   * when the server has read nothing for `stallMs` (it stopped reading without closing).
   */
  write(bytes: string | Uint8Array, stallMs = 3000): Promise<boolean> {
    const { socket } = this;
    if (this.gone || socket.writableEnded || socket.destroyed) return Promise.resolve(false);
    if (socket.write(bytes)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (written: boolean) => {
        clearTimeout(timer);
        socket.off("drain", onDrain);
        socket.off("close", onClose);
        resolve(written);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), stallMs);
      socket.once("drain", onDrain);
      socket.once("close", onClose);
    });
  }

  /** The first complete response; rejects if the connection closes or `timeoutMs` passes first. */
  async response(timeoutMs = 5000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseResponse(this.data);
      if (parsed) return parsed;
      const left = deadline - Date.now();
      if (this.gone || left <= 0) {
        const seen = JSON.stringify(this.data.toString("latin1").slice(0, 300));
        throw new Error(
          `${this.gone ? "the connection closed" : "timed out"} before a complete response; received ${seen}`,
        );
      }
      await this.nextChange(left);
    }
  }

  /** The response if one arrived before the connection went; undefined otherwise. */
  responseIfAny(): RawResponse | undefined {
    return parseResponse(this.data);
  }

  /** True once the connection is closed, false if it is still open after `ms`. */
  closedWithin(ms: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), delay(ms).then(() => false)]);
  }

  /** Resolves once any bytes of a response arrived. */
  async firstBytes(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.data.length === 0 && !this.gone && Date.now() < deadline) {
      await this.nextChange(deadline - Date.now());
    }
  }

  /** Half-closes: the server sees the end of the stream (FIN). */
  end(): void {
    this.socket.end();
  }

  /** Resets the connection (RST), as a crashed client or a middlebox does. */
  reset(): void {
    this.socket.resetAndDestroy();
  }
}

/** Settles once a socket is closed (`once` would reject on its ECONNRESET "error"). */
function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once("close", () => resolve());
  });
}

/** Headers as lines, in order. */
function lines(headers: Record<string, string>): [string, string][] {
  return Object.entries(headers);
}

/** Sends one whole request with `Connection: close` and reads its answer. */
export async function exchange(
  port: number,
  request: { method?: string; path: string; headers: HeaderLines; body: Uint8Array },
): Promise<RawResponse> {
  const client = await RawClient.open(port);
  try {
    await client.head(request.method ?? "POST", request.path, [
      ...request.headers,
      ["Content-Length", String(request.body.byteLength)],
      ["Connection", "close"],
    ]);
    await client.write(request.body);
    return await client.response();
  } finally {
    client.socket.destroy();
  }
}

/**
 * Records unhandled rejections and uncaught exceptions while a test runs. Vitest reports them
 * too, but after the fact and for the whole file; this pins them on the test that caused them.
 */
export function watchProcessErrors(): { stop(): Promise<unknown[]> } {
  const errors: unknown[] = [];
  const record = (error: unknown) => {
    errors.push(error);
  };
  process.on("unhandledRejection", record);
  process.on("uncaughtException", record);
  return {
    async stop() {
      // An unhandled rejection is reported after the microtask queue drains: give it a turn.
      await delay(20);
      process.off("unhandledRejection", record);
      process.off("uncaughtException", record);
      return errors;
    },
  };
}

/**
 * Node's own cut of slow uploads. It checks its timeouts every `connectionsCheckingInterval`
 * (30 s by default), read when the server starts listening: tests need a short one.
 */
export const TEST_SERVER_TIMEOUTS = { connectionsCheckingInterval: 50 } as const;

/** What the suite gives the adapter: core handler options, and Node's request timeout. */
export interface RobustnessOptions {
  secret: string;
  on: { "job.completed": (event: ConformanceEvent) => unknown };
  onError: (error: { code: string }) => void;
  maxBodyBytes: number;
  /**
   * Node's `server.requestTimeout` (and `headersTimeout`, at most this), set on the server before
   * it listens, with `connectionsCheckingInterval` from {@link TEST_SERVER_TIMEOUTS}.
   */
  requestTimeoutMs: number;
}

/** The adapter, mounted and listening. */
export interface RobustnessServer {
  server: Server;
  port: number;
  /** The webhook route. */
  path: string;
  close(): Promise<void>;
}

export interface RobustnessTarget {
  start(options: RobustnessOptions): Promise<RobustnessServer>;
  /**
   * Who reads the upload: `"core"` (the core's reader: an upload cut halfway reaches `onError` as
   * `request_aborted`), or `"framework"` (a body parser that runs before the adapter).
   */
  bodyReader: "core" | "framework";
  /**
   * `"refused"`: the adapter reads Node's `rawHeaders`, so a repeated signature header is refused.
   * `"joined"`: it sees Fetch `Headers`, where repeats arrive joined as `"a, b"`.
   */
  repeatedHeaders: "refused" | "joined";
  /**
   * An upload that goes on after its 413: `"closed"` (the answer says `Connection: close`, the
   * connection is closed and a bounded amount is read), `"drained"` (the framework reads the
   * whole upload before it answers: a documented gap), or `"unchecked"` (the adapter's own tests
   * say what happens; the suite checks only the 413 and that nothing ran).
   */
  after413: "closed" | "drained" | "unchecked";
}

/** What a "keeps uploading" client sends at most, unless the server closes first. */
export const UPLOAD_CAP_BYTES = 32 * 1024 * 1024;
/** The most a server may read of that upload after the 413 to count as bounded. */
export const BOUNDED_READ_BYTES = 4 * 1024 * 1024;

/**
 * Starts a delivery whose body is far over the limit and keeps uploading it (up to
 * {@link UPLOAD_CAP_BYTES}) until the server closes the connection or stops reading, then reads
 * the answer. `framing`: chunked with no length, or an honest Content-Length over the limit.
 */
export async function uploadPastLimit(
  app: Pick<RobustnessServer, "server" | "port" | "path">,
  headers: HeaderLines,
  framing: "chunked" | "length",
): Promise<{
  response: RawResponse;
  client: RawClient;
  uploaded: number;
  serverBytesRead(): number;
}> {
  const sockets: Socket[] = [];
  const track = (socket: Socket) => void sockets.push(socket);
  app.server.on("connection", track);
  const client = await RawClient.open(app.port);
  try {
    await client.head("POST", app.path, [
      ...headers,
      framing === "chunked"
        ? ["Transfer-Encoding", "chunked"]
        : ["Content-Length", String(UPLOAD_CAP_BYTES)],
    ]);
    const chunk = Buffer.alloc(64 * 1024, "x".charCodeAt(0));
    const frame =
      framing === "chunked"
        ? Buffer.concat([
            Buffer.from(`${chunk.byteLength.toString(16)}\r\n`),
            chunk,
            Buffer.from("\r\n"),
          ])
        : chunk;
    let uploaded = 0;
    while (uploaded < UPLOAD_CAP_BYTES && (await client.write(frame))) uploaded += chunk.byteLength;
    if (framing === "chunked") await client.write("0\r\n\r\n");
    const response = await client.response();
    return {
      response,
      client,
      uploaded,
      serverBytesRead: () => sockets.reduce((total, socket) => total + socket.bytesRead, 0),
    };
  } finally {
    app.server.off("connection", track);
  }
}

const SECRET = CONFORMANCE_SECRET;
const MAX_BODY_BYTES = 1024;

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** A signed job.completed delivery with a fresh id. */
function delivery(id = `evt_robust_${Math.random().toString(36).slice(2)}`) {
  const body = eventBody("job.completed", { id: "job_1", status: "completed" }, id);
  return { id, ...signDelivery(body, { secret: SECRET }) };
}

/**
 * Registers the raw-socket robustness suite for one adapter.
 *
 * @example
 * ```ts
 * runNodeRobustnessSuite("express 5", { start, bodyReader: "core", repeatedHeaders: "refused", after413: "closed" });
 * ```
 */
export function runNodeRobustnessSuite(name: string, target: RobustnessTarget): void {
  describe(`node robustness: ${name}`, () => {
    let watch: ReturnType<typeof watchProcessErrors>;
    const running: RobustnessServer[] = [];
    const clients: RawClient[] = [];
    beforeEach(() => {
      watch = watchProcessErrors();
    });
    afterEach(async () => {
      for (const client of clients.splice(0)) client.socket.destroy();
      for (const server of running.splice(0)) await server.close();
      expect(await watch.stop()).toEqual([]);
    });

    /**
     * Starts the adapter; `ran` lists the handled event ids, `errors` what onError was told.
     * `beforeRun` lets a test hold the handler.
     */
    async function start(
      options: Partial<Omit<RobustnessOptions, "on">> & { beforeRun?: () => Promise<void> } = {},
    ) {
      const { beforeRun, ...overrides } = options;
      const ran: string[] = [];
      const errors: string[] = [];
      const aborted = deferred();
      const app = await target.start({
        secret: SECRET,
        on: {
          "job.completed": async (event) => {
            await beforeRun?.();
            ran.push(event.id);
          },
        },
        onError: (error) => {
          errors.push(error.code);
          if (error.code === "request_aborted") aborted.resolve();
        },
        maxBodyBytes: MAX_BODY_BYTES,
        requestTimeoutMs: 10_000,
        ...overrides,
      });
      running.push(app);
      const sockets: Socket[] = [];
      app.server.on("connection", (socket: Socket) => void sockets.push(socket));
      /** Sends a fresh valid delivery and expects it handled: the server is still serving. */
      const expectServing = async () => {
        const next = delivery();
        const response = await exchange(app.port, {
          path: app.path,
          headers: lines(next.headers),
          body: next.body,
        });
        expect([response.status, JSON.parse(response.body)]).toEqual([
          200,
          { received: true, outcome: "handled" },
        ]);
        expect(ran).toContain(next.id);
      };
      /** Waits until the server has dealt with an upload that was cut short. */
      const settled = async () => {
        if (target.bodyReader === "core") {
          await Promise.race([
            aborted.promise,
            delay(5000).then(() => {
              throw new Error(`onError was not told request_aborted (told: ${errors.join(", ")})`);
            }),
          ]);
        } else {
          // A framework's body parser tells no one; give it the time to notice.
          await delay(100);
        }
      };
      return { app, ran, errors, sockets, expectServing, settled };
    }

    async function open(port: number) {
      const client = await RawClient.open(port);
      clients.push(client);
      return client;
    }

    it.each([
      ["closes its side (FIN)", "end"],
      ["resets the connection (RST)", "reset"],
    ] as const)("survives a client that sends half the body and %s", async (_label, how) => {
      const { app, ran, expectServing, settled } = await start();
      const { headers, body } = delivery();
      const client = await open(app.port);
      await client.head("POST", app.path, [
        ...lines(headers),
        ["Content-Length", String(body.byteLength)],
      ]);
      await client.write(body.subarray(0, body.byteLength >> 1));
      await delay(20);
      if (how === "end") client.end();
      else client.reset();
      await settled();
      expect(ran).toEqual([]);
      await expectServing();
    });

    it("survives Node's requestTimeout cutting a slow upload", async () => {
      const { app, ran, expectServing, settled } = await start({ requestTimeoutMs: 300 });
      const { headers, body } = delivery();
      const client = await open(app.port);
      await client.head("POST", app.path, [
        ...lines(headers),
        ["Content-Length", String(body.byteLength)],
      ]);
      await client.write(body.subarray(0, 10));
      // The rest never comes: Node answers (408, or the framework's own error) and closes.
      expect(await client.closedWithin(3000)).toBe(true);
      const answer = client.responseIfAny();
      if (answer) expect(answer.status).toBeGreaterThanOrEqual(400);
      await settled();
      expect(ran).toEqual([]);
      await expectServing();
    });

    it("survives a reset while the handler runs, and records the run for the retry", async () => {
      const started = deferred();
      const gate = deferred();
      const { app, ran, sockets, expectServing } = await start({
        beforeRun: () => {
          started.resolve();
          return gate.promise;
        },
      });
      const first = delivery();
      const client = await open(app.port);
      await client.head("POST", app.path, [
        ...lines(first.headers),
        ["Content-Length", String(first.body.byteLength)],
      ]);
      await client.write(first.body);
      await started.promise;
      client.reset();
      // The server saw the reset before the answer is written into the dead connection.
      await Promise.all(sockets.map(closeOf));
      gate.resolve();
      await delay(50);
      expect(ran).toEqual([first.id]);
      // Kallima retries what it got no answer for: the handler ran, so the retry is a duplicate.
      const retry = await exchange(app.port, {
        path: app.path,
        headers: lines(signDelivery(first.body, { secret: SECRET }).headers),
        body: first.body,
      });
      expect([retry.status, JSON.parse(retry.body)]).toMatchObject([200, { outcome: "duplicate" }]);
      await expectServing();
    });

    it("survives a reset as soon as the answer starts arriving", async () => {
      const { app, expectServing } = await start();
      for (let round = 0; round < 5; round++) {
        const { headers, body } = delivery();
        const client = await open(app.port);
        await client.head("POST", app.path, [
          ...lines(headers),
          ["Content-Length", String(body.byteLength)],
        ]);
        await client.write(body);
        await client.firstBytes();
        client.reset();
      }
      await delay(50);
      await expectServing();
    });

    describe("repeated signature headers, sent as separate header lines", () => {
      const valid = delivery();
      const signature = valid.headers["x-kallima-signature"]!;
      const timestamp = valid.headers["x-kallima-timestamp"]!;
      const combined = signDelivery(valid.body, { secret: SECRET, format: "kallima-signature" })
        .headers["kallima-signature"]!;
      const cases = [
        {
          label: "X-Kallima-Signature twice, the same valid value",
          headers: [
            ["X-Kallima-Signature", signature],
            ["X-Kallima-Signature", signature],
            ["X-Kallima-Timestamp", timestamp],
          ],
          refused: [401, "invalid_signature"],
          // Joined: "sig, sig" is a list of two signatures, one of which matches.
          joined: [200, undefined],
        },
        {
          label: "X-Kallima-Signature twice, valid then garbage",
          headers: [
            ["X-Kallima-Signature", signature],
            ["X-Kallima-Signature", "not-a-signature"],
            ["X-Kallima-Timestamp", timestamp],
          ],
          refused: [401, "invalid_signature"],
          joined: [200, undefined],
        },
        {
          label: "X-Kallima-Timestamp twice",
          headers: [
            ["X-Kallima-Signature", signature],
            ["X-Kallima-Timestamp", timestamp],
            ["X-Kallima-Timestamp", timestamp],
          ],
          refused: [400, "invalid_timestamp"],
          // Joined: "t, t" is not digits.
          joined: [400, "invalid_timestamp"],
        },
        {
          label: "Kallima-Signature twice",
          headers: [
            ["Kallima-Signature", combined],
            ["Kallima-Signature", combined],
          ],
          refused: [401, "invalid_signature"],
          // Joined: "t=…,v1=…, t=…,v1=…" has two t= items.
          joined: [400, "invalid_timestamp"],
        },
      ] as const;

      it.each(cases)("$label", async (repeat) => {
        const { app, ran, expectServing } = await start();
        const response = await exchange(app.port, {
          path: app.path,
          headers: [["Content-Type", "application/json"], ...repeat.headers],
          body: valid.body,
        });
        const [status, code] = repeat[target.repeatedHeaders];
        const answered = JSON.parse(response.body) as { error?: { code?: string } };
        expect([response.status, answered.error?.code]).toEqual([status, code]);
        expect(ran).toEqual(status === 200 ? [valid.id] : []);
        await expectServing();
      });
    });

    it.each([
      ["a chunked upload (no Content-Length)", "chunked"],
      ["a Content-Length over the limit", "length"],
    ] as const)("answers 413 to %s that goes on uploading", async (_label, framing) => {
      const { app, ran, expectServing } = await start();
      const upload = await uploadPastLimit(app, lines(delivery().headers), framing);
      expect(upload.response.status).toBe(413);
      expect(ran).toEqual([]);
      if (target.after413 === "closed") {
        expect(upload.response.headers.connection).toBe("close");
        expect(await upload.client.closedWithin(3000)).toBe(true);
        expect(upload.serverBytesRead()).toBeLessThan(BOUNDED_READ_BYTES);
      } else if (target.after413 === "drained") {
        // The framework read the whole upload before answering (see the README).
        await expect.poll(upload.serverBytesRead).toBeGreaterThanOrEqual(UPLOAD_CAP_BYTES);
      }
      upload.client.socket.destroy();
      await expectServing();
    });
  });
}
