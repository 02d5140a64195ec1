// Compiled against the BUILT types (dist/index.d.cts), as a CommonJS consumer sees them.
import express = require("express");
import webhooks = require("@kallima/webhooks-express");
import testing = require("@kallima/webhooks-express/testing");

const app = express();
app.all(
  "/kallima-events",
  webhooks.kallimaWebhooks({
    secret: "whsec_consumer",
    on: { "job.completed": (event, { req }) => void `${event.data.id} ${req.ip}` },
  }),
);
app.post("/verified", webhooks.verifyKallimaWebhook({ secret: "whsec_consumer" }), (req, res) => {
  // @ts-expect-error possibly undefined until checked
  void req.kallimaEvent.id;
  res.json({ id: req.kallimaEvent?.id });
});
void testing.signPayload({ secret: "whsec_consumer", payload: testing.webhookTestEvent() });
