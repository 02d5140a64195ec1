// A store client between the store and a real one, which misbehaves on chosen calls the way a
// network or a client library can: it holds a command back (so that a later one overtakes it),
// loses a command's reply after Redis ran it, or fails a command without sending it. The orphan
// tests use it to put a failed claim and its cleanup in every order Redis could see them.
import type {
  IoRedisScriptClient,
  NodeRedisEvalOptions,
  NodeRedisScriptClient,
  RedisStoreClient,
} from "../index.js";

/** What happens to one call, numbered from 0 in the order the store makes them. */
export type Fault =
  /** Sent and answered normally. */
  | "pass"
  /** Never sent; the caller gets an error at once (a dropped connection, an offline client). */
  | "fail"
  /** Sent and run by Redis, but the caller gets an error instead of the reply. */
  | "lose-reply"
  /** Held back until `release()` is called, then sent; the caller waits for it. */
  | "hold";

export interface FaultyClient {
  client: RedisStoreClient;
  /** How many calls the store has made. */
  readonly calls: number;
  /** Sends a held call now. */
  release(call: number): void;
  /** Resolves with Redis's reply once call `call` has run in Redis (rejects if it failed there). */
  ran(call: number): Promise<unknown>;
  /** Sends call `call` to Redis once more, as a client that resends unanswered commands does. */
  resend(call: number): Promise<unknown>;
}

const ignore = () => {};

/** Wraps `real` (an ioredis or node-redis client); `plan` says what happens to each call. */
export function faultyClient(real: RedisStoreClient, plan: (call: number) => Fault): FaultyClient {
  const sends: (() => Promise<unknown>)[] = [];
  const ran = new Map<number, Promise<unknown>>();
  const holds = new Map<number, () => void>();
  const waiting = new Map<
    number,
    { resolve: (reply: unknown) => void; reject: (e: unknown) => void }
  >();

  const ranPromise = (call: number): Promise<unknown> => {
    let promise = ran.get(call);
    if (!promise) {
      promise = new Promise((resolve, reject) => waiting.set(call, { resolve, reject }));
      // Observed here, so that a call the test never awaits is no unhandled rejection.
      promise.catch(ignore);
      ran.set(call, promise);
    }
    return promise;
  };
  const send = (call: number): Promise<unknown> => {
    const sent = sends[call]!();
    void ranPromise(call);
    sent.then(
      (reply) => waiting.get(call)?.resolve(reply),
      (error: unknown) => waiting.get(call)?.reject(error),
    );
    return sent;
  };

  const intercept = (command: () => Promise<unknown>): Promise<unknown> => {
    const call = sends.length;
    sends.push(command);
    switch (plan(call)) {
      case "pass":
        return send(call);
      case "fail":
        return Promise.reject(new Error(`test: call ${call} failed before it was sent`));
      case "lose-reply":
        send(call).catch(ignore);
        return Promise.reject(new Error(`test: the reply to call ${call} was lost`));
      case "hold":
        return new Promise<void>((resolve) => holds.set(call, resolve)).then(() => send(call));
    }
  };

  let client: RedisStoreClient;
  if (typeof (real as NodeRedisScriptClient).evalSha === "function") {
    const nodeRedis = real as NodeRedisScriptClient;
    client = {
      evalSha: (sha1: string, options: NodeRedisEvalOptions) =>
        intercept(() => nodeRedis.evalSha(sha1, options)),
      eval: (source: string, options: NodeRedisEvalOptions) =>
        intercept(() => nodeRedis.eval(source, options)),
    } satisfies NodeRedisScriptClient;
  } else {
    const ioredis = real as IoRedisScriptClient;
    client = {
      evalsha: (sha1: string, numkeys: number, ...keysAndArgs: string[]) =>
        intercept(() => ioredis.evalsha(sha1, numkeys, ...keysAndArgs)),
      eval: (source: string, numkeys: number, ...keysAndArgs: string[]) =>
        intercept(() => ioredis.eval(source, numkeys, ...keysAndArgs)),
    } satisfies IoRedisScriptClient;
  }

  return {
    client,
    get calls() {
      return sends.length;
    },
    release(call) {
      const hold = holds.get(call);
      if (!hold) throw new Error(`call ${call} is not held`);
      holds.delete(call);
      hold();
    },
    ran: ranPromise,
    resend: (call) => sends[call]!(),
  };
}
