import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runDevServerDemo } from "./dev-server-demo.js";
import { painter } from "./output.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("the dev server section of the demo", () => {
  it("registers the real examples, retries a failing handler, rotates, and prints the history", async () => {
    let output = "";
    const report = await runDevServerDemo({
      root,
      only: ["express", "hono"],
      out: {
        write: (chunk: string) => {
          output += chunk;
        },
      },
      paint: painter(false),
    });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(output).toContain("driven with @kallima/webhooks-client");
    expect(output).toContain("✓ test event → Express: 200");
    expect(output).toContain("✓ test event → Hono: 200");
    expect(output).toContain(
      "✓ a handler failing twice: attempts 500 → 500 → 200, handler ran 1 time(s)",
    );
    expect(output).toContain(
      "✓ secret rotated; Express still has the old one: 401 (invalid_signature)",
    );
    expect(output).toMatch(
      /Express restarted with the new secret beside the old one; the failed delivery retried: 200/,
    );
    expect(output).toMatch(
      /delivery history \(newest first\)\n {2}Express http:\/\/127\.0\.0\.1:\d+\/kallima-events\n {4}job\.completed +delivered, attempts: 401 \d+ms → /,
    );
    expect(output).not.toContain("not delivered");
  });
});
