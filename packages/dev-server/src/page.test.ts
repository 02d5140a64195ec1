import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer, type WebhookObjectWithSecret } from "./index.js";
import { call, startReceiver, type TestReceiver, waitFor } from "./test-support.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === "true") {
  // CI installs chromium (.ci/run): a missing browser there is a broken setup, not a skip.
  throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium.`);
}

describe.skipIf(!available)("the dev server's page, in headless Chromium", () => {
  let browser: Browser;
  let dev: DevServer;
  let receiver: TestReceiver;
  let webhook: WebhookObjectWithSecret;
  let deliveryId: string;
  let eventId: string;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    dev = await startDevServer({ port: 0, retryDelaysMs: [20] });
    receiver = await startReceiver((delivery, index) =>
      index === 0 ? 503 : delivery.verdict.ok ? 200 : 401,
    );
    webhook = (await call(dev.url, "POST", "/v1/webhooks", { url: receiver.url }))
      .body as WebhookObjectWithSecret;
    receiver.secrets = [webhook.secret];
    await call(dev.url, "POST", "/v1/webhooks", {
      url: "http://127.0.0.1:9/paused",
      enabled: false,
      events: ["job.failed"],
    });
    const triggered = (
      await call(dev.url, "POST", "/v1/dev/events", {
        type: "job.completed",
        set: { id: "evt_<img src=x onerror=alert(1)>" },
      })
    ).body as { deliveries: { id: string; event_id: string }[] };
    deliveryId = triggered.deliveries[0]!.id;
    eventId = triggered.deliveries[0]!.event_id;
    await waitFor(
      async () =>
        (
          (await call(dev.url, "GET", `/v1/webhook_deliveries/${deliveryId}`)).body as {
            attempts: number;
          }
        ).attempts === 2,
      "the retry",
    );
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
    await receiver?.close();
  });

  it("lists endpoints, events and deliveries with every attempt", async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const answer = await page.goto(dev.url);
    expect(answer?.status()).toBe(200);
    expect(await page.title()).toBe("Kallima webhooks dev server");

    const endpoints = page.locator("#endpoints tbody tr");
    expect(await endpoints.count()).toBe(2);
    const active = page.locator(`#endpoints tr[data-webhook-id="${webhook.id}"]`);
    expect(await active.locator(".state").textContent()).toBe("enabled");
    expect(await active.textContent()).toContain(receiver.url);
    expect(await endpoints.nth(0).textContent()).toContain("disabled");
    expect(await endpoints.nth(0).textContent()).toContain("job.failed");

    const event = page.locator("#events tbody tr").first();
    expect(await event.textContent()).toContain("job.completed");
    // Shown as text: the id's markup is escaped, never run.
    expect(await event.locator("code").textContent()).toBe(eventId);
    expect(await page.locator("img").count()).toBe(0);

    const delivery = page.locator(`#deliveries tr[data-delivery-id="${deliveryId}"]`);
    expect(await delivery.locator(".state").textContent()).toBe("succeeded");
    const attempts = delivery.locator("ol.attempts li");
    expect(await attempts.allTextContents()).toEqual([
      expect.stringMatching(/^#1 HTTP 503 in \d+ ms \(initial, /),
      expect.stringMatching(/^#2 HTTP 200 in \d+ ms \(scheduled retry, /),
    ]);
    expect(dialogs).toEqual([]);
    if (process.env.KALLIMA_DEV_SCREENSHOT) {
      await page.screenshot({ path: process.env.KALLIMA_DEV_SCREENSHOT, fullPage: true });
    }
    await page.close();
  });

  it("shows a new attempt on reload", async () => {
    const page = await browser.newPage();
    await page.goto(dev.url);
    const before = await page.locator("#deliveries tbody tr").count();
    await call(dev.url, "POST", `/v1/webhooks/${webhook.id}/test`);
    await page.reload();
    expect(await page.locator("#deliveries tbody tr").count()).toBe(before + 1);
    expect(await page.locator("#deliveries tbody tr").first().textContent()).toContain(
      "webhook.test",
    );
    await page.close();
  });
});
