import { STATUS_CODES } from "node:http";
import { PayloadTooLargeError, type WebhookRequest, type WebhookResult } from "@kallima/webhooks";
import { checkBodySize } from "@kallima/webhooks/adapter";
import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from "aws-lambda";
import {
  type LambdaHttpEvent,
  type LambdaHttpResult,
  type LambdaWebhookContext,
  sourceOf,
} from "./sources.js";

type HeaderRecord = Record<string, string | string[] | undefined>;

function methodOf(event: LambdaHttpEvent): string {
  return sourceOf(event) === "payload-v2"
    ? (event as APIGatewayProxyEventV2).requestContext.http.method
    : (event as APIGatewayProxyEvent | ALBEvent).httpMethod;
}

/**
 * The request headers with every value each arrived with. Payload 1.0 sends a repeated header's
 * copies only in `multiValueHeaders` (`headers` keeps the last), and an ALB target with
 * multi-value headers on sends nothing else; names keep the case the client used, which the core
 * reads case-insensitively. Payload 2.0 joins copies with commas, as a Fetch `Headers` does.
 */
function headersOf(event: LambdaHttpEvent): HeaderRecord {
  const { multiValueHeaders, headers } = event as APIGatewayProxyEvent;
  if (multiValueHeaders && Object.keys(multiValueHeaders).length > 0) {
    return multiValueHeaders as HeaderRecord;
  }
  return (headers ?? {}) as HeaderRecord;
}

/**
 * The exact bytes that reached the source: base64-decoded when `isBase64Encoded` (binary media
 * types on REST APIs, any non-text body on HTTP APIs, Function URLs and ALB), else the UTF-8 of
 * the text the source decoded the body to.
 */
function bodyOf(event: LambdaHttpEvent, limit: number): Uint8Array {
  const { body, isBase64Encoded } = event as { body?: string | null; isBase64Encoded?: boolean };
  if (body === undefined || body === null || body === "") return new Uint8Array(0);
  // A base64 text is a third longer than its bytes: no need to decode one far over the limit.
  if (isBase64Encoded && Math.floor((body.length * 3) / 4) > limit + 2) {
    throw new PayloadTooLargeError(limit);
  }
  const bytes = Buffer.from(body, isBase64Encoded ? "base64" : "utf8");
  return checkBodySize(bytes as Uint8Array, limit);
}

/** The core's request for an invocation; `{ event, context }` reaches the handlers. */
export function webhookRequest<TEvent extends LambdaHttpEvent>(
  invocation: LambdaWebhookContext<TEvent>,
): WebhookRequest<LambdaWebhookContext<TEvent>> {
  const { event } = invocation;
  return {
    method: methodOf(event),
    headers: headersOf(event),
    rawBody: (limit) => bodyOf(event, limit),
    context: invocation,
  };
}

/**
 * The core's answer in the shape the event's source expects. An ALB target answers with
 * `multiValueHeaders` when the request came with them (multi-value headers on: ALB then ignores
 * `headers`), and with the `statusDescription` ALB requires.
 */
export function lambdaResult<TEvent extends LambdaHttpEvent>(
  event: TEvent,
  result: WebhookResult,
): LambdaHttpResult<TEvent> {
  const answer: Record<string, unknown> = {
    statusCode: result.status,
    body: result.body,
    isBase64Encoded: false,
  };
  if (sourceOf(event) === "alb") {
    answer.statusDescription = `${result.status} ${STATUS_CODES[result.status] ?? ""}`.trimEnd();
    if ((event as ALBEvent).multiValueHeaders) {
      answer.multiValueHeaders = Object.fromEntries(
        Object.entries(result.headers).map(([name, value]) => [name, [value]]),
      );
      return answer as unknown as LambdaHttpResult<TEvent>;
    }
  }
  answer.headers = { ...result.headers };
  return answer as unknown as LambdaHttpResult<TEvent>;
}
