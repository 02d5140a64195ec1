import type {
  ALBEvent,
  ALBResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";

/**
 * The HTTP events a webhook function can be invoked with: API Gateway REST APIs and HTTP APIs
 * with payload format 1.0 (`APIGatewayProxyEvent`), HTTP APIs with payload format 2.0 and Lambda
 * Function URLs (`APIGatewayProxyEventV2`, which `LambdaFunctionURLEvent` is), and Application
 * Load Balancer targets (`ALBEvent`).
 */
export type LambdaHttpEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2 | ALBEvent;

/**
 * The answer each source expects: `ALBResult` for ALB (with `statusDescription`),
 * `APIGatewayProxyStructuredResultV2` for payload 2.0 and Function URLs, `APIGatewayProxyResult`
 * for payload 1.0. A union event gets the union of answers.
 */
export type LambdaHttpResult<TEvent extends LambdaHttpEvent = LambdaHttpEvent> =
  TEvent extends ALBEvent
    ? ALBResult
    : TEvent extends APIGatewayProxyEventV2
      ? APIGatewayProxyStructuredResultV2
      : APIGatewayProxyResult;

/** What handlers get as their second argument: the invocation's event and Lambda context. */
export interface LambdaWebhookContext<TEvent extends LambdaHttpEvent = LambdaHttpEvent> {
  /** The event the function was invoked with, as the source sent it. */
  event: TEvent;
  /** The Lambda context: `awsRequestId`, `getRemainingTimeInMillis()`, … */
  context: Context;
}

/** Which of the shapes an event has, read from the fields each source alone sends. */
export type LambdaEventSource = "alb" | "payload-v2" | "payload-v1";

export function sourceOf(event: LambdaHttpEvent): LambdaEventSource {
  const requestContext = (event as unknown as { requestContext?: Record<string, unknown> })
    .requestContext;
  if (requestContext && "elb" in requestContext) return "alb";
  if (
    (event as APIGatewayProxyEventV2).version === "2.0" ||
    (requestContext && "http" in requestContext)
  ) {
    return "payload-v2";
  }
  return "payload-v1";
}
