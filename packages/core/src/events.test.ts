import { describe, expect, it } from "vitest";
import { getFailureReason, isEventType, type VerifiedKallimaEvent } from "./index.js";
import { humanizationFailedEvent, jobFailedEvent } from "./testing.js";

describe("getFailureReason", () => {
  it("reads the job object's error_message", () => {
    expect(getFailureReason(jobFailedEvent().data)).toEqual({
      message: "GPU ran out of memory",
      code: undefined,
    });
  });

  it("reads an { code, message } error object", () => {
    const data = jobFailedEvent({
      data: { error_message: null, error: { code: "oom", message: "out of memory" } },
    }).data;
    expect(getFailureReason(data)).toEqual({ message: "out of memory", code: "oom" });
  });

  it("reads a problem+json error: detail, then title", () => {
    expect(getFailureReason(humanizationFailedEvent().data)).toEqual({
      message: "The model did not converge for this variant.",
      code: "pipeline_failed",
    });
    expect(getFailureReason({ error: { title: "Pipeline failed", detail: "  " } })).toEqual({
      message: "Pipeline failed",
      code: undefined,
    });
  });

  it("prefers error_message, and never fails on a reason-less or odd event", () => {
    expect(getFailureReason({ error_message: "a", error: { message: "b" } }).message).toBe("a");
    for (const data of [{}, { error: null }, { error_message: "" }, { error: "x" as never }]) {
      expect(getFailureReason(data).message).toMatch(/without a reason/);
    }
  });

  it("works after isEventType narrows an event of any known failed type", () => {
    const event: VerifiedKallimaEvent = humanizationFailedEvent();
    expect(isEventType(event, "humanization.failed") && getFailureReason(event.data).code).toBe(
      "pipeline_failed",
    );
  });
});
