// Compiled against the BUILT types with @types/express 4, as an Express 4 app sees them.
import { kallimaWebhooks, verify, verifyKallimaWebhook } from "@kallima/webhooks-express";
import express from "express";

const app = express();
app.use(express.json({ verify }));
app.post("/kallima-events", kallimaWebhooks({ secret: "whsec_consumer" }));
app.post("/verified", verifyKallimaWebhook({ secret: "whsec_consumer" }), (req, res) => {
  // @ts-expect-error possibly undefined until checked
  void req.kallimaEvent.id;
  const id: string | undefined = req.kallimaEvent?.id;
  res.json({ id });
});
