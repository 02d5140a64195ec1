import { afterEach, beforeEach, vi } from "vitest";
import { RECIPE_SECRET } from "../check.js";

/**
 * Per test: the recipe's secret in the environment, and what it logs kept (the core's warnings
 * about the rejected deliveries are silenced). `logged()` is everything console.log printed.
 */
export function recipeEnvironment(): { logged: () => string } {
  let lines: string[] = [];
  beforeEach(() => {
    lines = [];
    vi.stubEnv("KALLIMA_WEBHOOK_SECRET", RECIPE_SECRET);
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });
  return { logged: () => lines.join("\n") };
}

let runs = 0;
/** A tag that keeps each run's event ids apart (the handler's memory store outlives a test). */
export const nextTag = (name: string) => `${name}_${Date.now()}_${++runs}`;
