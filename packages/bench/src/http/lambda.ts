import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { kallimaWebhooks } from "@kallima/webhooks-lambda";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { floorRoute, type Mode, type ServerContext, STATS_PATH } from "./common.js";

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The hand-written floor: what a Lambda function without the adapter does at least (decode the
 * body as the event says, check the signature headers, answer in payload 2.0's shape).
 */
function floorHandler(ctx: ServerContext): Handler {
  return async (event) => {
    const body = Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8");
    const answer = floorRoute(ctx, event.headers, body);
    return {
      statusCode: answer.status,
      headers: { "content-type": "application/json" },
      body: answer.body,
      isBase64Encoded: false,
    };
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function eventOf(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const path = req.url ?? "/";
  const now = Date.now();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers,
    requestContext: {
      accountId: "123456789012",
      apiId: "bench",
      domainName: "localhost",
      domainPrefix: "bench",
      http: {
        method: req.method ?? "GET",
        path,
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: "",
      timeEpoch: now,
    },
    body: body.toString("utf8"),
    isBase64Encoded: false,
  };
}

const context: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "bench",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:local:123456789012:function:bench",
  memoryLimitInMB: "256",
  awsRequestId: "bench",
  logGroupName: "/aws/lambda/bench",
  logStreamName: "bench",
  getRemainingTimeInMillis: () => 30_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

/**
 * An AWS Lambda function (HTTP API, payload 2.0) invoked once per request by the same local
 * bridge in both modes: the adapter's handler, or the hand-written floor handler. The bridge's
 * cost is the same on both sides, so the ratio is the handlers'.
 */
export async function startLambda(mode: Mode, ctx: ServerContext, stats: () => unknown) {
  const handler: Handler =
    mode === "floor"
      ? floorHandler(ctx)
      : (kallimaWebhooks<APIGatewayProxyEventV2>({
          secret: ctx.secret,
          on: { "job.completed": () => ctx.count() },
        }) as Handler);
  const server = createServer((req, res) => {
    if (req.url === STATS_PATH) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats()));
      return;
    }
    void readBody(req)
      .then((body) => handler(eventOf(req, body), { ...context, awsRequestId: randomUUID() }))
      .then((answer) => {
        res.writeHead(answer.statusCode ?? 200, answer.headers as Record<string, string>);
        res.end(answer.body);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
