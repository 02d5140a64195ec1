// Type tests: `tsc -p tsconfig.json` (the typecheck script) fails if any of these stop holding.
import type {
  ALBEvent,
  ALBHandler,
  ALBResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyHandler,
  APIGatewayProxyHandlerV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  LambdaFunctionURLHandler,
} from "aws-lambda";
import { describe, expectTypeOf, it } from "vitest";
import {
  type KallimaLambdaOptions,
  kallimaWebhooks,
  type LambdaHttpEvent,
  type LambdaHttpResult,
  type UnknownEventTypes,
  type VerifiedKallimaEvent,
  verifyKallimaWebhook,
} from "./index.js";

const secret = "whsec_typeTestSecret_0123456789abcdefghij";

describe("types", () => {
  it("is a handler of each source's own type in @types/aws-lambda", () => {
    const v2: APIGatewayProxyHandlerV2 = kallimaWebhooks<APIGatewayProxyEventV2>({ secret });
    const url: LambdaFunctionURLHandler = kallimaWebhooks<APIGatewayProxyEventV2>({ secret });
    const rest: APIGatewayProxyHandler = kallimaWebhooks<APIGatewayProxyEvent>({ secret });
    const alb: ALBHandler = kallimaWebhooks<ALBEvent>({ secret });
    void [v2, url, rest, alb];
  });

  it("answers in the shape of its event's source", () => {
    expectTypeOf<LambdaHttpResult<ALBEvent>>().toEqualTypeOf<ALBResult>();
    expectTypeOf<
      LambdaHttpResult<APIGatewayProxyEventV2>
    >().toEqualTypeOf<APIGatewayProxyStructuredResultV2>();
    const any = kallimaWebhooks({ secret });
    expectTypeOf(any).parameter(0).toEqualTypeOf<LambdaHttpEvent>();
  });

  it("types the handlers' { event, context } by the event type", () => {
    kallimaWebhooks<APIGatewayProxyEventV2>({
      secret: ({ event }) => {
        expectTypeOf(event.requestContext.http.method).toEqualTypeOf<string>();
        return secret;
      },
      on: {
        "job.completed": (event, { event: lambdaEvent, context }) => {
          expectTypeOf(event.data.status).toEqualTypeOf<"completed">();
          expectTypeOf(lambdaEvent).toEqualTypeOf<APIGatewayProxyEventV2>();
          expectTypeOf(context).toEqualTypeOf<Context>();
        },
      },
    });
  });

  it("names an unknown key of on: in plain words", () => {
    kallimaWebhooks({
      secret,
      on: {
        // @ts-expect-error '"job.complete" is not a Kallima event type: fix the spelling, …'
        "job.complete": () => {},
      },
    });
    type Message = UnknownEventTypes<{ "job.complete": unknown }>["job.complete"];
    expectTypeOf<Message>().toBeString();
  });

  it("types the verify-only route's arguments and answer", () => {
    verifyKallimaWebhook<ALBEvent>({ secret }, (kallimaEvent, { event }) => {
      expectTypeOf(kallimaEvent).toEqualTypeOf<VerifiedKallimaEvent>();
      expectTypeOf(event.requestContext.elb.targetGroupArn).toEqualTypeOf<string>();
      return { statusCode: 204, statusDescription: "204 No Content" };
    });
    // @ts-expect-error an ALB target must answer with a status code
    verifyKallimaWebhook<ALBEvent>({ secret }, () => ({ body: "" }));
  });

  it("takes options built ahead as KallimaLambdaOptions", () => {
    const options: KallimaLambdaOptions<APIGatewayProxyEventV2> = {
      secret,
      on: { "webhook.test": (_event, { context }) => void context.awsRequestId },
    };
    kallimaWebhooks(options);
  });
});
