import { createRequestHandler, type ServerBuild } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { checkRecipe, RECIPE_PATH } from "../check.js";
import { nextTag, recipeEnvironment } from "../test-support/recipe-test.js";
import * as route from "./webhooks.kallima.js";

// The server build `react-router build` would emit for an app with this one resource route under
// the root route: what @react-router/node and @react-router/serve hand createRequestHandler.
// (Cast: ServerBuild types every route module with a default export, which resource routes lack.)
const build = {
  entry: {
    module: {
      default: () => new Response("a document request: not expected here", { status: 500 }),
    },
  },
  routes: {
    root: { id: "root", path: "", module: {} },
    "routes/webhooks.kallima": {
      id: "routes/webhooks.kallima",
      parentId: "root",
      path: RECIPE_PATH.slice(1),
      module: route,
    },
  },
  assets: {
    entry: { module: "/assets/entry.client.js", imports: [] },
    routes: {},
    url: "/assets/manifest.js",
    version: "1",
  },
  publicPath: "/",
  assetsBuildDirectory: "build/client",
  future: {},
  ssr: true,
  isSpaMode: false,
  prerender: [],
  routeDiscovery: { mode: "lazy", manifestPath: "/__manifest" },
} as unknown as ServerBuild;

const handle = createRequestHandler(build, "production");
const send = (request: Request) => handle(request);

describe("React Router action recipe", () => {
  const { logged } = recipeEnvironment();

  it("answers deliveries through React Router's request handler; GET gets the core's 405", async () => {
    const outcome = await checkRecipe(send, {
      tag: nextTag("react_router"),
      baseUrl: "http://localhost:5173",
      logged,
    });
    expect(outcome.failures).toEqual([]);
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
