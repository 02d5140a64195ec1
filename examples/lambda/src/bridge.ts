import { randomUUID } from "node:crypto";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";

/** A function handler as the bridge calls it: `(event, context)`, resolving to the answer. */
export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/** The largest request body a synchronous Lambda invocation takes (6 MB). */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Content types API Gateway HTTP APIs pass as text; it base64-encodes every other body. */
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)\b)/i;

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > MAX_PAYLOAD_BYTES) {
        req.destroy();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * The payload 2.0 event API Gateway builds for this request: lowercase header names, a repeated
 * header's copies joined with commas, cookies apart, and the body base64-encoded unless its
 * content type is text.
 */
export function httpApiEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let index = 0; index + 1 < req.rawHeaders.length; index += 2) {
    const name = req.rawHeaders[index]!.toLowerCase();
    const value = req.rawHeaders[index + 1]!;
    if (name === "cookie") cookies.push(...value.split(/;\s*/));
    else headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  const method = req.method ?? "GET";
  const text = TEXT_TYPES.test(headers["content-type"] ?? "");
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    requestContext: {
      accountId: "123456789012",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.byteLength > 0
      ? { body: body.toString(text ? "utf8" : "base64"), isBase64Encoded: !text }
      : { isBase64Encoded: false }),
  };
}

/** A context as the Lambda runtime passes it to one invocation. */
export function invocationContext(requestId: string, timeoutMs = 30_000): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "kallima-webhooks-example",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:local:123456789012:function:kallima-webhooks-example",
    memoryLimitInMB: "256",
    awsRequestId: requestId,
    logGroupName: "/aws/lambda/kallima-webhooks-example",
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Writes a payload 2.0 answer as API Gateway would: a bare value is a 200 JSON body. */
function writeAnswer(res: ServerResponse, answer: APIGatewayProxyResultV2): void {
  const structured: APIGatewayProxyStructuredResultV2 =
    typeof answer === "object" && answer !== null && "statusCode" in answer
      ? answer
      : {
          statusCode: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(answer),
        };
  res.statusCode = structured.statusCode ?? 200;
  for (const [name, value] of Object.entries(structured.headers ?? {}))
    res.setHeader(name, String(value));
  if (structured.cookies?.length) res.setHeader("set-cookie", structured.cookies);
  const body = structured.body ?? "";
  res.end(structured.isBase64Encoded ? Buffer.from(body, "base64") : body);
}

/**
 * A Node request listener standing in for API Gateway: each request becomes one invocation of
 * `handler` with the payload 2.0 event and a fresh context, and its answer becomes the response.
 * A local development aid: deployed, API Gateway does this.
 */
export function httpApiBridge(handler: HttpApiHandler): RequestListener {
  return (req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (body === undefined) {
        res.writeHead(413, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ message: "Request Entity Too Large" }));
        return;
      }
      const event = httpApiEvent(req, body);
      writeAnswer(res, await handler(event, invocationContext(event.requestContext.requestId)));
    })().catch((error: unknown) => {
      // What API Gateway answers when the function fails rather than answering.
      console.error(error);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Internal Server Error" }));
    });
  };
}
