// Compiled against the BUILT types (dist/index.d.cts), as a CommonJS consumer sees them.
import express = require("express");
import webhooks = require("@kallima/webhooks-express");

const app = express();
app.post("/verified", webhooks.verifyKallimaWebhook({ secret: "whsec_consumer" }), (req, res) => {
  // @ts-expect-error possibly undefined until checked
  void req.kallimaEvent.id;
  res.json({ id: req.kallimaEvent?.id });
});
