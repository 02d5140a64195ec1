import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { checkRecipe, RECIPE_PATH } from "../check.js";
import { nextTag, recipeEnvironment } from "../test-support/recipe-test.js";
import * as route from "./+server.js";

type RenderEndpoint = (
  event: unknown,
  eventState: unknown,
  mod: unknown,
  state: unknown,
) => Promise<Response>;

// SvelteKit's own endpoint renderer (internal: src/runtime/server/endpoint.js of the pinned
// kit): it picks the export for the method, answers 405 + Allow for the others and checks that a
// Response came back, as the server does for a +server.ts route.
const kit = dirname(createRequire(import.meta.url).resolve("@sveltejs/kit/package.json"));
const { render_endpoint } = (await import(
  pathToFileURL(join(kit, "src/runtime/server/endpoint.js")).href
)) as { render_endpoint: RenderEndpoint };

const send = (request: Request) => {
  const url = new URL(request.url);
  const event = {
    request,
    url,
    params: {},
    route: { id: RECIPE_PATH },
    locals: {},
    platform: undefined,
    isDataRequest: false,
    isSubRequest: false,
    isRemoteRequest: false,
  };
  return render_endpoint(event, {}, route, { prerender_default: false, depth: 0 });
};

describe("SvelteKit +server.ts recipe", () => {
  const { logged } = recipeEnvironment();

  it("answers deliveries through SvelteKit's endpoint renderer; SvelteKit answers GET 405", async () => {
    const outcome = await checkRecipe(send, {
      tag: nextTag("sveltekit"),
      baseUrl: "http://localhost:5173",
      logged,
      methodAnswer: { status: 405, allow: "POST" },
    });
    expect(outcome.failures).toEqual([]);
    expect(Object.keys(route)).toEqual(["POST"]);
  });

  it("loads without the secret (as at build time) and answers 500 invalid_secret until it is set", async () => {
    vi.stubEnv("KALLIMA_WEBHOOK_SECRET", undefined);
    const response = await send(
      new Request(`http://localhost${RECIPE_PATH}`, { method: "POST", body: "{}" }),
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_secret" } });
  });
});
