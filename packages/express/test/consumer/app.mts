// Compiled against the BUILT types (dist/index.d.ts), as an ESM consumer sees them.
import { getFailureReason, isEventType, type VerifiedKallimaEvent } from "@kallima/webhooks";
import { kallimaWebhooks, verify, verifyKallimaWebhook } from "@kallima/webhooks-express";
import express from "express";

const app = express();
app.use(express.json({ verify }));
app.post(
  "/kallima-events",
  kallimaWebhooks({
    secret: "whsec_consumer",
    on: { "job.failed": (event) => getFailureReason(event.data).message.toUpperCase() },
  }),
);
app.post("/verified", verifyKallimaWebhook({ secret: "whsec_consumer" }), (req, res) => {
  const event: VerifiedKallimaEvent | undefined = req.kallimaEvent;
  // @ts-expect-error possibly undefined until checked
  void req.kallimaEvent.id;
  if (event && isEventType(event, "job.failed"))
    res.json({ message: getFailureReason(event.data).message });
});
