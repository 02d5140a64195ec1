// Type checks against h3 2 (not a vitest file): checked by `tsc -p tsconfig.h3-v2.json`, where "h3" resolves to h3 2
// (the `h3-v2` alias), as it does in a Nitro 3 app. Left out of the h3 1.x check.
import { H3, type H3Event } from "h3";
import { describe, expectTypeOf, it } from "vitest";
import { kallimaWebhooks, type VerifiedKallimaEvent, verifyKallimaWebhook } from "./index.js";

const secret = "whsec_typeTestSecret_0123456789abcdefghij";

describe("types (h3 2)", () => {
  it("mounts as a handler and as middleware, and hands handlers h3 2's H3Event", () => {
    const app = new H3();
    app.all(
      "/kallima-events",
      kallimaWebhooks({
        secret: (event) => (event.req.headers.get("host") ? secret : ""),
        on: {
          "job.completed": (_event, h3Event) => {
            expectTypeOf(h3Event).toEqualTypeOf<H3Event>();
            expectTypeOf(h3Event.req).toEqualTypeOf<H3Event["req"]>();
          },
        },
      }),
    );
    app.use("/verified", verifyKallimaWebhook({ secret }));
    app.post("/verified", (event) => {
      expectTypeOf(event.context.kallimaEvent).toEqualTypeOf<VerifiedKallimaEvent | undefined>();
      return { received: event.context.kallimaEvent?.id };
    });
  });
});
