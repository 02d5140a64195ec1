// Test harness: turns the conformance suite's requests into the events each source sends, built on
// fixtures kept in src/fixtures/ (shaped after the example events of AWS's documentation), and
// reads the function's answers back, checking that each has the shape its source requires.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { STATUS_CODES } from "node:http";
import type {
  ConformanceApp,
  ConformanceRequest,
  ConformanceResponse,
} from "@kallima/webhooks-conformance";
import type {
  ALBEvent,
  ALBResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  Context,
} from "aws-lambda";
import type { LambdaHttpEvent } from "./index.js";

/** The event sources, each with the fixture its events start from. */
export const SOURCES = {
  "API Gateway REST API (payload 1.0)": "api-gateway-rest",
  "API Gateway HTTP API, payload 1.0": "http-api-v1",
  "API Gateway HTTP API, payload 2.0": "http-api-v2",
  "Lambda Function URL": "function-url",
  "ALB target": "alb",
  "ALB target, multi-value headers on": "alb-multi-value",
} as const;

export type SourceFixture = (typeof SOURCES)[keyof typeof SOURCES];

/** A fresh copy of a fixture, as parsed from its JSON. */
export function fixture<TEvent extends LambdaHttpEvent = LambdaHttpEvent>(
  name: SourceFixture,
): TEvent {
  const url = new URL(`./fixtures/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as TEvent;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript)\b)/i;

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** `x-kallima-signature` as a client may spell it: `X-Kallima-Signature`. */
const titleCase = (name: string) =>
  name.replace(/(^|-)([a-z])/g, (_m, dash, c) => dash + c.toUpperCase());

/**
 * The event `source` sends for this request. REST APIs here have `*\/*` as a binary media type,
 * so every body arrives base64-encoded; the other sources encode a body that is not text. REST
 * and HTTP API payload 1.0 keep the client's header case (here `X-Kallima-Signature`) and send
 * both `headers` and `multiValueHeaders`; payload 2.0 and Function URLs lowercase names; an ALB
 * target sends `headers`, or only `multiValueHeaders` when those are turned on.
 */
export function eventFor(source: SourceFixture, request: ConformanceRequest): LambdaHttpEvent {
  const event = fixture(source) as unknown as Record<string, unknown>;
  const method = request.method ?? "POST";
  const contentType = Object.entries(request.headers).find(
    ([name]) => name.toLowerCase() === "content-type",
  )?.[1];
  const text = contentType !== undefined && TEXT_TYPES.test(contentType) && isUtf8(request.body);
  const base64 = source === "api-gateway-rest" || !text;
  event.body = Buffer.from(request.body).toString(base64 ? "base64" : "utf8");
  event.isBase64Encoded = base64;

  const kept = <T>(headers: Record<string, T>): Record<string, T> =>
    Object.fromEntries(
      Object.entries(headers).filter(
        ([name]) => !["content-type", "content-length"].includes(name.toLowerCase()),
      ),
    );
  const length = String(request.body.byteLength);
  if (source === "api-gateway-rest" || source === "http-api-v1") {
    const v1 = event as unknown as APIGatewayProxyEvent;
    const sent = Object.entries({ ...request.headers, "content-length": length }).map(
      ([name, value]) => [titleCase(name), value] as const,
    );
    v1.headers = {
      ...kept(v1.headers),
      ...Object.fromEntries(sent),
    } as APIGatewayProxyEvent["headers"];
    v1.multiValueHeaders = {
      ...kept(v1.multiValueHeaders),
      ...Object.fromEntries(sent.map(([name, value]) => [name, [value]])),
    } as APIGatewayProxyEvent["multiValueHeaders"];
    v1.httpMethod = method;
    v1.requestContext.httpMethod = method;
  } else if (source === "http-api-v2" || source === "function-url") {
    const v2 = event as unknown as APIGatewayProxyEventV2;
    v2.headers = { ...kept(v2.headers), ...lowercase(request.headers) };
    if (source === "http-api-v2") v2.headers["content-length"] = length;
    v2.requestContext.http.method = method;
    if (source === "http-api-v2") {
      v2.routeKey = `${method} /kallima-events`;
      v2.requestContext.routeKey = v2.routeKey;
    }
  } else {
    const alb = event as unknown as ALBEvent;
    const sent = { ...lowercase(request.headers), "content-length": length };
    if (source === "alb-multi-value") {
      alb.multiValueHeaders = {
        ...kept(alb.multiValueHeaders ?? {}),
        ...Object.fromEntries(Object.entries(sent).map(([name, value]) => [name, [value]])),
      } as ALBEvent["multiValueHeaders"];
    } else {
      alb.headers = { ...kept(alb.headers ?? {}), ...sent } as ALBEvent["headers"];
    }
    alb.httpMethod = method;
  }
  return event as unknown as LambdaHttpEvent;
}

function lowercase(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
}

/** A Lambda context as the runtime passes it, with a fresh request id. */
export function lambdaContext(overrides: Partial<Context> = {}): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "kallima-webhooks",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:kallima-webhooks",
    memoryLimitInMB: "256",
    awsRequestId: randomUUID(),
    logGroupName: "/aws/lambda/kallima-webhooks",
    logStreamName: "2026/04/23/[$LATEST]0123456789abcdef0123456789abcdef",
    getRemainingTimeInMillis: () => Math.max(0, 30_000 - (Date.now() - started)),
    done: () => {},
    fail: () => {},
    succeed: () => {},
    ...overrides,
  };
}

/**
 * Reads a function's answer for an event of `source`, after checking it has the shape that source
 * requires: a numeric `statusCode`, a string `body`, `isBase64Encoded`; for an ALB target a
 * `statusDescription` such as `"200 OK"`, and `multiValueHeaders` (only) when the request came
 * with them, else `headers` (only).
 */
export function readAnswer(source: SourceFixture, answer: unknown): ConformanceResponse {
  const result = answer as Partial<ALBResult & APIGatewayProxyResult>;
  const problems: string[] = [];
  if (typeof result.statusCode !== "number") problems.push("statusCode is not a number");
  if (typeof result.body !== "string") problems.push("body is not a string");
  if (typeof result.isBase64Encoded !== "boolean") problems.push("isBase64Encoded is missing");
  let headers: Record<string, string | undefined> = {};
  if (source === "alb" || source === "alb-multi-value") {
    const expected = `${result.statusCode} ${STATUS_CODES[result.statusCode ?? 0]}`;
    if (result.statusDescription !== expected) {
      problems.push(`statusDescription is ${result.statusDescription}, not "${expected}"`);
    }
  }
  if (source === "alb-multi-value") {
    if (!result.multiValueHeaders || result.headers) {
      problems.push(
        "an ALB target with multi-value headers must answer with multiValueHeaders only",
      );
    }
    headers = Object.fromEntries(
      Object.entries(result.multiValueHeaders ?? {}).map(([name, values]) => [
        name.toLowerCase(),
        values.map(String).join(", "),
      ]),
    );
  } else {
    if (!result.headers || result.multiValueHeaders) {
      problems.push("the answer must carry headers (and no multiValueHeaders)");
    }
    headers = Object.fromEntries(
      Object.entries(result.headers ?? {}).map(([name, value]) => [
        name.toLowerCase(),
        String(value),
      ]),
    );
  }
  if (problems.length > 0) {
    throw new Error(
      `Not a valid answer for ${source}: ${problems.join("; ")}: ${JSON.stringify(answer)}`,
    );
  }
  const body = result.isBase64Encoded
    ? Buffer.from(result.body!, "base64").toString("utf8")
    : result.body!;
  return { status: result.statusCode!, headers, body };
}

/** A Lambda function handler, as the runtime calls it. */
export type InvokedHandler = (event: never, context: Context) => Promise<unknown>;

/** The conformance app for a function: each request becomes one invocation with `source`'s event. */
export function invokeApp(source: SourceFixture, handler: InvokedHandler): ConformanceApp {
  return {
    send: async (request) =>
      readAnswer(source, await handler(eventFor(source, request) as never, lambdaContext())),
  };
}
