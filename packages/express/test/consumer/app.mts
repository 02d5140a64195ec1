// Compiled against the BUILT types (dist/index.d.ts), as an ESM consumer sees them: everything
// is imported from the one package the app installed.
import {
  createWebhookHandler,
  type ExpressWebhookContext,
  getFailureReason,
  isEventType,
  kallimaWebhooks,
  type VerifiedKallimaEvent,
  verify,
  verifyKallimaWebhook,
  type WebhookConfigError,
} from "@kallima/webhooks-express";
import { jobCompletedEvent, signPayload } from "@kallima/webhooks-express/testing";
import express, { type Request } from "express";

const app = express();
app.use(express.json({ verify }));
app.all(
  "/kallima-events",
  kallimaWebhooks({
    secret: ({ req }) => (req.get("x-tenant") === "acme" ? "whsec_acme" : "whsec_consumer"),
    on: {
      "job.failed": (event, { res }) => {
        res.locals.reason = getFailureReason(event.data).message.toUpperCase();
      },
    },
  }),
);
app.all(
  "/with-get",
  kallimaWebhooks({ secret: "whsec_consumer", otherMethods: "next" }),
  (_req, res) => {
    res.json({ listed: [] });
  },
);
const shared = createWebhookHandler<ExpressWebhookContext>({ secret: "whsec_consumer" }).on(
  "job.completed",
  (_event, { req }) => {
    const request: Request = req;
    void request;
  },
);
app.all("/shared", kallimaWebhooks(shared, { otherMethods: "405" }));
app.post("/verified", verifyKallimaWebhook({ secret: "whsec_consumer" }), (req, res) => {
  const event: VerifiedKallimaEvent | undefined = req.kallimaEvent;
  // @ts-expect-error possibly undefined until checked
  void req.kallimaEvent.id;
  if (event && isEventType(event, "job.failed"))
    res.json({ message: getFailureReason(event.data).message });
});
// @ts-expect-error only "405" and "next"
kallimaWebhooks({ secret: "whsec_consumer", otherMethods: "passes-on" });

const error: WebhookConfigError | undefined = undefined;
void error;
void signPayload({ secret: "whsec_consumer", payload: jobCompletedEvent() });
