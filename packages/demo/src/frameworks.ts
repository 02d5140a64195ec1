/** One webhook route of an example app: one row of the demo's table. */
export interface DemoRoute {
  /** Row label, e.g. "Next.js edge". */
  label: string;
  /** The webhook route (POST deliveries, GET the events whose handler ran). */
  path: string;
}

/** An example app the demo starts (examples/README.md is the contract they follow). */
export interface DemoFramework {
  /** Directory under `examples/`, also the name `--only` takes. */
  id: string;
  label: string;
  routes: DemoRoute[];
}

/** The examples of examples/README.md, in the demo's order. */
export const FRAMEWORKS: readonly DemoFramework[] = [
  { id: "express", label: "Express", routes: [{ label: "Express", path: "/kallima-events" }] },
  { id: "nest", label: "NestJS", routes: [{ label: "NestJS", path: "/kallima-events" }] },
  {
    id: "next",
    label: "Next.js",
    routes: [
      { label: "Next app/node", path: "/kallima-events" },
      { label: "Next app/edge", path: "/kallima-events/edge" },
      { label: "Next pages", path: "/api/kallima-events" },
    ],
  },
  { id: "hono", label: "Hono", routes: [{ label: "Hono", path: "/kallima-events" }] },
  { id: "fastify", label: "Fastify", routes: [{ label: "Fastify", path: "/kallima-events" }] },
  { id: "koa", label: "Koa", routes: [{ label: "Koa", path: "/kallima-events" }] },
  { id: "h3", label: "h3", routes: [{ label: "h3", path: "/kallima-events" }] },
  {
    id: "lambda",
    label: "AWS Lambda",
    routes: [{ label: "Lambda (HTTP API)", path: "/kallima-events" }],
  },
];
