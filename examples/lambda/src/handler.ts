import { getFailureReason, kallimaWebhooks } from "@kallima/webhooks-lambda";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyHandlerV2,
  APIGatewayProxyResultV2,
  Context,
} from "aws-lambda";

const DEMO_SECRET = "whsec_kallimaDemoSecret_notForProduction_01";

// Several secrets, comma-separated, during a rotation ("whsec_new,whsec_old"): either verifies.
let secret = (process.env.KALLIMA_WEBHOOK_SECRET ?? "")
  .split(",")
  .map((value) => value.trim())
  .filter((value) => value !== "");
if (secret.length === 0) {
  console.warn(
    `KALLIMA_WEBHOOK_SECRET is not set: using the demo secret ${DEMO_SECRET}. Never use it in production.`,
  );
  secret = [DEMO_SECRET];
}

/** An event whose handler ran, as `GET /kallima-events` lists it. */
export interface RecordedEvent {
  id: string;
  type: string;
}

// What ran in this instance, for `GET /kallima-events` (a demo aid: a real function keeps state
// in a database, since Lambda runs many instances and recycles them).
const ran: RecordedEvent[] = [];
const record = (event: RecordedEvent) => {
  ran.push({ id: event.id, type: event.type });
};

// Created once, at module scope: warm invocations of this instance share its dedupe store.
const webhooks = kallimaWebhooks<APIGatewayProxyEventV2>({
  secret,
  on: {
    // The second argument is the invocation's { event, context }.
    "job.completed": (event, { context }) => {
      console.log(`job ${event.data.id} completed (request ${context.awsRequestId})`);
      record(event);
    },
    "job.failed": (event) => {
      console.log(`job ${event.data.id} failed: ${getFailureReason(event.data).message}`);
      record(event);
    },
    "webhook.test": (event) => {
      console.log(`test delivery for webhook ${event.data.webhook_id}`);
      record(event);
    },
  },
});

/**
 * The function: an HTTP API (payload 2.0) or Function URL handler. `GET` lists what ran; every
 * other method goes to the webhook handler, which answers anything but POST with 405.
 */
export const handler = (async (
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyResultV2> => {
  if (event.requestContext.http.method === "GET") {
    return {
      statusCode: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events: ran }),
    };
  }
  return webhooks(event, context);
}) satisfies APIGatewayProxyHandlerV2;
