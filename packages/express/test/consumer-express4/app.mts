// Compiled against the BUILT types with @types/express 4, as an Express 4 app sees them.
import {
  type ExpressWebhookContext,
  kallimaWebhooks,
  verify,
  verifyKallimaWebhook,
} from "@kallima/webhooks-express";
import express, { type Request } from "express";

const app = express();
app.use(express.json({ verify }));
app.all(
  "/kallima-events",
  kallimaWebhooks({
    secret: ({ req }) => String(req.params.tenant),
    on: {
      "job.completed": (_event, context: ExpressWebhookContext) => {
        const request: Request = context.req;
        void request;
      },
    },
  }),
);
app.use("/with-get", kallimaWebhooks({ secret: "whsec_consumer", otherMethods: "next" }));
app.post("/verified", verifyKallimaWebhook({ secret: "whsec_consumer" }), (req, res) => {
  // @ts-expect-error possibly undefined until checked
  void req.kallimaEvent.id;
  const id: string | undefined = req.kallimaEvent?.id;
  res.json({ id });
});
