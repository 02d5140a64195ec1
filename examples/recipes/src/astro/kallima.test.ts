import { experimental_AstroContainer as AstroContainer } from "astro/container";
import { describe, expect, it, vi } from "vitest";
import { checkRecipe, RECIPE_PATH } from "../check.js";
import { nextTag, recipeEnvironment } from "../test-support/recipe-test.js";
import * as route from "./kallima.js";

// Astro's container renders the endpoint module through Astro's own endpoint pipeline (its
// RenderContext and renderEndpoint: the export for the method, or ALL), as a server-rendered
// route of an app is.
const container = await AstroContainer.create();
type Renderable = Parameters<typeof container.renderToResponse>[0];
const send = (request: Request) =>
  container.renderToResponse(route as unknown as Renderable, { routeType: "endpoint", request });

describe("Astro endpoint recipe", () => {
  const { logged } = recipeEnvironment();

  it("answers deliveries through Astro's endpoint rendering; GET gets the core's 405", async () => {
    const outcome = await checkRecipe(send, {
      tag: nextTag("astro"),
      baseUrl: "http://localhost:4321",
      logged,
    });
    expect(outcome.failures).toEqual([]);
    expect(route.prerender).toBe(false);
  });

  it("loads without the secret and answers 500 invalid_secret until it is set", async () => {
    vi.stubEnv("KALLIMA_WEBHOOK_SECRET", undefined);
    const response = await send(
      new Request(`http://localhost${RECIPE_PATH}`, { method: "POST", body: "{}" }),
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_secret" } });
  });
});
