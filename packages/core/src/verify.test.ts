import { describe, expect, it } from "vitest";
import {
  MAX_SIGNATURES_PER_HEADER,
  RawBodyUnavailableError,
  WebhookConfigError,
  WebhookSignatureError,
  WebhookVerifier,
} from "./index.js";
import { signPayload } from "./testing.js";

const SECRET = "whsec_AbCdEfGhIjKlMnOpQrStUvWx1234567890ABCDEF";
const NOW = 1_776_938_400;
const BODY = JSON.stringify({
  id: "evt_1",
  type: "job.completed",
  api_version: "2026-04-23",
  created_at: "x",
  data: { id: "job_1", status: "completed" },
});

const verifier = (options: Partial<ConstructorParameters<typeof WebhookVerifier>[0]> = {}) =>
  new WebhookVerifier({ secret: SECRET, now: () => NOW * 1000, ...options });

async function codeOf(attempt: Promise<unknown>): Promise<string> {
  return attempt.then(
    () => "ok",
    (error: unknown) => {
      if (error instanceof WebhookSignatureError) return error.code;
      throw error;
    },
  );
}

async function signed(body: string | Uint8Array = BODY) {
  return signPayload({ secret: SECRET, payload: body, timestamp: NOW });
}

describe("WebhookVerifier configuration", () => {
  it.each([
    ["an empty secret", ""],
    ["a blank secret", "   "],
    ["a secret with a trailing newline", `${SECRET}\n`],
    ["a secret with leading whitespace", ` ${SECRET}`],
    ["a secret without the whsec_ prefix", "AbCdEfGhIjKlMnOpQrStUvWx"],
    ["the prefix alone", "whsec_"],
    ["an empty secret list", []],
    ["a list with one bad secret", [SECRET, "nope"]],
    ["a non-string secret", 42],
  ])("rejects %s with invalid_secret, without echoing it", (_label, secret) => {
    let caught: unknown;
    try {
      new WebhookVerifier({ secret: secret as string });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WebhookConfigError);
    expect((caught as WebhookConfigError).code).toBe("invalid_secret");
    expect((caught as Error).message).not.toContain("AbCdEfGhIjKlMnOp");
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, "300", null])(
    "rejects toleranceSeconds %s with invalid_tolerance",
    (toleranceSeconds) => {
      expect(() => verifier({ toleranceSeconds: toleranceSeconds as number })).toThrowError(
        expect.objectContaining({ code: "invalid_tolerance" }),
      );
    },
  );

  it("rejects a clock that is not a function", () => {
    expect(() => verifier({ now: 5 as unknown as () => number })).toThrowError(
      expect.objectContaining({ code: "invalid_option" }),
    );
  });

  it("says which HMAC engine this runtime uses", () => {
    expect(["node:crypto", "web-crypto"]).toContain(verifier().engine);
  });
});

describe("WebhookVerifier header handling", () => {
  it("accepts a header that arrived once as a one-element array", async () => {
    const { signature, timestamp } = await signed();
    expect(
      await codeOf(
        verifier().verify({ payload: BODY, signature: [signature], timestamp: [timestamp] }),
      ),
    ).toBe("ok");
  });

  it("does not trust a header that arrived twice", async () => {
    const { signature, timestamp } = await signed();
    expect(
      await codeOf(
        verifier().verify({ payload: BODY, signature: [signature, signature], timestamp }),
      ),
    ).toBe("invalid_signature");
    expect(
      await codeOf(
        verifier().verify({ payload: BODY, signature, timestamp: [timestamp, timestamp] }),
      ),
    ).toBe("invalid_timestamp");
  });

  it("treats null, undefined and empty arrays as missing", async () => {
    const { signature, timestamp } = await signed();
    expect(await codeOf(verifier().verify({ payload: BODY, signature: null, timestamp }))).toBe(
      "missing_signature",
    );
    expect(await codeOf(verifier().verify({ payload: BODY, signature: [], timestamp }))).toBe(
      "missing_signature",
    );
    expect(
      await codeOf(verifier().verify({ payload: BODY, signature, timestamp: undefined })),
    ).toBe("missing_timestamp");
  });

  it.each([
    ["exponent notation", "1.776938400e9"],
    ["1e9", "1e9"],
    ["hex", "0x69E9E1A0"],
    ["a leading plus", "+1776938400"],
    ["a leading space", " 1776938400"],
    ["a trailing space", "1776938400 "],
    ["a trailing newline", "1776938400\n"],
    ["fullwidth digits", "１７７６９３８４００"],
    ["Arabic-Indic digits", "١٧٧٦٩٣٨٤٠٠"],
    ["underscores", "1_776_938_400"],
    ["16 digits", "1776938400000000"],
    ["Infinity", "Infinity"],
  ])(
    "rejects a Number()-lenient timestamp (%s) as invalid_timestamp",
    async (_label, timestamp) => {
      const signature = (await signPayload({ secret: SECRET, payload: BODY, timestamp })).signature;
      expect(await codeOf(verifier().verify({ payload: BODY, signature, timestamp }))).toBe(
        "invalid_timestamp",
      );
    },
  );

  it("allows whitespace around the signatures in a list", async () => {
    const { signature, timestamp } = await signed();
    const other = "0".repeat(64);
    expect(
      await codeOf(
        verifier().verify({ payload: BODY, signature: `${other} , ${signature} `, timestamp }),
      ),
    ).toBe("ok");
  });

  it(`reads at most ${MAX_SIGNATURES_PER_HEADER} signatures from one header`, async () => {
    const { signature, timestamp } = await signed();
    const filler = Array.from({ length: MAX_SIGNATURES_PER_HEADER - 1 }, () => "0".repeat(64));
    const withinCap = [...filler, signature].join(",");
    const pastCap = [...filler, "1".repeat(64), signature].join(",");
    expect(
      await codeOf(verifier().verify({ payload: BODY, signature: withinCap, timestamp })),
    ).toBe("ok");
    expect(await codeOf(verifier().verify({ payload: BODY, signature: pastCap, timestamp }))).toBe(
      "invalid_signature",
    );
  });

  it("answers invalid_signature for wrong-length, non-hex and huge signature values", async () => {
    const { signature, timestamp } = await signed();
    for (const candidate of [
      signature.slice(0, 63),
      `${signature}0`,
      `${signature.slice(0, 63)}g`,
      "x".repeat(100_000),
      ",",
    ]) {
      expect(
        await codeOf(verifier().verify({ payload: BODY, signature: candidate, timestamp })),
      ).toBe("invalid_signature");
    }
  });

  it("reads hex digits in either case, and only hex digits", async () => {
    const { signature, timestamp } = await signed();
    const upper = signature.toUpperCase();
    expect(await codeOf(verifier().verify({ payload: BODY, signature: upper, timestamp }))).toBe(
      "ok",
    );
    expect(
      await codeOf(verifier().verify({ payload: BODY, signature: `t=${timestamp},v1=${upper}` })),
    ).toBe("ok");
    // Characters that a lenient decoder masks to the right digit (U+0161 → 0x61 "a").
    for (const position of [0, 31, 63]) {
      const code = signature.charCodeAt(position);
      const lookalike =
        signature.slice(0, position) +
        String.fromCharCode(0x100 | code) +
        signature.slice(position + 1);
      expect(
        await codeOf(verifier().verify({ payload: BODY, signature: lookalike, timestamp })),
      ).toBe("invalid_signature");
      expect(
        await codeOf(
          verifier().verify({ payload: BODY, signature: `t=${timestamp},v1=${lookalike}` }),
        ),
      ).toBe("invalid_signature");
      expect(
        await codeOf(
          verifier().verify({
            payload: BODY,
            signature: `${"0".repeat(64)},${lookalike}`,
            timestamp,
          }),
        ),
      ).toBe("invalid_signature");
    }
  });
});

describe("WebhookVerifier payloads", () => {
  it("accepts the body as string, Uint8Array, Buffer, ArrayBuffer and DataView", async () => {
    const { signature, timestamp } = await signed();
    const bytes = new TextEncoder().encode(BODY);
    const payloads = [
      BODY,
      bytes,
      Buffer.from(BODY),
      bytes.buffer.slice(0),
      new DataView(bytes.buffer.slice(0)),
    ];
    for (const payload of payloads) {
      expect(
        await codeOf(verifier().verify({ payload: payload as Uint8Array, signature, timestamp })),
      ).toBe("ok");
    }
  });

  it("verifies a Uint8Array that is a view into a larger buffer", async () => {
    const { signature, timestamp } = await signed();
    const bytes = new TextEncoder().encode(`xxxx${BODY}yyyy`).subarray(4, 4 + BODY.length);
    expect(await codeOf(verifier().verify({ payload: bytes, signature, timestamp }))).toBe("ok");
  });

  it("refuses an already-parsed object with raw_body_unavailable", async () => {
    const { signature, timestamp } = await signed();
    const attempt = verifier().verify({
      payload: JSON.parse(BODY) as Uint8Array,
      signature,
      timestamp,
    });
    await expect(attempt).rejects.toBeInstanceOf(RawBodyUnavailableError);
  });

  it("does not parse a body whose signature is wrong", async () => {
    const { timestamp } = await signed();
    const parse = JSON.parse;
    let parsed = 0;
    JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
      parsed++;
      return parse(...args);
    };
    try {
      expect(
        await codeOf(verifier().verify({ payload: BODY, signature: "0".repeat(64), timestamp })),
      ).toBe("invalid_signature");
    } finally {
      JSON.parse = parse;
    }
    expect(parsed).toBe(0);
  });

  it("keeps a __proto__ key as data and pollutes no prototype", async () => {
    const body =
      '{"__proto__":{"polluted":true},"id":"evt_p","type":"job.completed","data":{"constructor":{"prototype":{"polluted":true}}}}';
    const { signature, timestamp } = await signed(body);
    const event = await verifier().verify({ payload: body, signature, timestamp });
    expect(event.id).toBe("evt_p");
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
  });

  it("answers deeply nested JSON with an event or invalid_payload, never a crash", async () => {
    const depth = 200_000;
    const body = `{"id":"evt_deep","type":"job.completed","data":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const { signature, timestamp } = await signed(body);
    expect(["ok", "invalid_payload"]).toContain(
      await codeOf(verifier().verify({ payload: body, signature, timestamp })),
    );
  });

  it.each([
    ["null", "null"],
    ["a number", "42"],
    ["a string", '"evt"'],
    ["an empty id", '{"id":"","type":"job.completed"}'],
    ["a numeric id", '{"id":1,"type":"job.completed"}'],
    ["an object type", '{"id":"evt","type":{}}'],
    ["a UTF-8 BOM before the JSON", '\uFEFF{"id":"evt","type":"job.completed"}'],
  ])("answers invalid_payload for a signed body that is %s", async (_label, body) => {
    const { signature, timestamp } = await signed(body);
    expect(
      await codeOf(
        verifier().verify({ payload: new TextEncoder().encode(body), signature, timestamp }),
      ),
    ).toBe("invalid_payload");
  });

  it("verifies invalid UTF-8 bytes exactly, then refuses them as invalid_payload", async () => {
    const body = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const { signature, timestamp } = await signed(body);
    expect(await codeOf(verifier().verify({ payload: body, signature, timestamp }))).toBe(
      "invalid_payload",
    );
    expect(
      await codeOf(
        verifier().verify({
          payload: new Uint8Array([0x7b, 0xff, 0xfd, 0x7d]),
          signature,
          timestamp,
        }),
      ),
    ).toBe("invalid_signature");
  });

  it("uses the injected clock with the tolerance, both ways", async () => {
    const { signature, timestamp } = await signed();
    const at = (seconds: number) => verifier({ now: () => seconds * 1000, toleranceSeconds: 10 });
    expect(await codeOf(at(NOW + 10).verify({ payload: BODY, signature, timestamp }))).toBe("ok");
    expect(await codeOf(at(NOW + 11).verify({ payload: BODY, signature, timestamp }))).toBe(
      "timestamp_too_old",
    );
    expect(await codeOf(at(NOW - 11).verify({ payload: BODY, signature, timestamp }))).toBe(
      "timestamp_in_future",
    );
  });

  it("accepts any of several secrets and says nothing about which", async () => {
    const other = "whsec_secondSecretForRotation000000000000";
    const { signature, timestamp } = await signPayload({
      secret: other,
      payload: BODY,
      timestamp: NOW,
    });
    expect(
      await codeOf(
        verifier({ secret: [SECRET, other] }).verify({ payload: BODY, signature, timestamp }),
      ),
    ).toBe("ok");
    expect(await codeOf(verifier().verify({ payload: BODY, signature, timestamp }))).toBe(
      "invalid_signature",
    );
  });
});

describe("WebhookVerifier with the Kallima-Signature header", () => {
  const combined = (timestamp: string | number, ...signatures: string[]) =>
    [`t=${timestamp}`, ...signatures.map((signature) => `v1=${signature}`)].join(",");

  it("takes the combined value as `signature` with no `timestamp`", async () => {
    const { signature } = await signed();
    expect(
      await codeOf(verifier().verify({ payload: BODY, signature: combined(NOW, signature) })),
    ).toBe("ok");
    expect(
      await codeOf(verifier().verify({ payload: BODY, signature: [combined(NOW, signature)] })),
    ).toBe("ok");
  });

  it("picks the format from the headers: Kallima-Signature alone when present", async () => {
    const { signature } = await signed();
    const pair = { "x-kallima-signature": signature, "x-kallima-timestamp": String(NOW) };
    expect(await codeOf(verifier().verify({ payload: BODY, headers: pair }))).toBe("ok");
    // A broken Kallima-Signature is not rescued by a valid pair beside it.
    const both = { ...pair, "Kallima-Signature": combined(NOW, "0".repeat(64)) };
    expect(await codeOf(verifier().verify({ payload: BODY, headers: both }))).toBe(
      "invalid_signature",
    );
    const empty = { ...pair, "kallima-signature": "" };
    expect(await codeOf(verifier().verify({ payload: BODY, headers: empty }))).toBe(
      "missing_signature",
    );
  });

  it("does not trust a Kallima-Signature header that arrived twice", async () => {
    const { signature } = await signed();
    const value = combined(NOW, signature);
    expect(
      await codeOf(
        verifier().verify({ payload: BODY, headers: { "kallima-signature": [value, value] } }),
      ),
    ).toBe("invalid_signature");
    // Fetch joins repeats with ", ": the second t= makes it malformed.
    const joined = new Headers();
    joined.append("kallima-signature", value);
    joined.append("kallima-signature", value);
    expect(await codeOf(verifier().verify({ payload: BODY, headers: joined }))).toBe(
      "invalid_timestamp",
    );
  });

  it(`reads at most ${MAX_SIGNATURES_PER_HEADER} v1 signatures, and says so`, async () => {
    const { signature } = await signed();
    const decoys = Array.from({ length: MAX_SIGNATURES_PER_HEADER }, () => "0".repeat(64));
    const last = combined(NOW, ...decoys.slice(1), signature);
    expect(await codeOf(verifier().verify({ payload: BODY, signature: last }))).toBe("ok");
    const tooFar = combined(NOW, ...decoys, signature);
    const error = await verifier()
      .verify({ payload: BODY, signature: tooFar })
      .catch((caught: unknown) => caught);
    expect((error as WebhookSignatureError).code).toBe("invalid_signature");
    expect((error as Error).message).toContain(`first ${MAX_SIGNATURES_PER_HEADER} signatures`);
    expect((error as Error).message).toContain("Kallima-Signature");
  });

  it.each([
    ["no items at all", "foo=bar", "missing_signature"],
    ["a v1 with an empty value", `t=${NOW},v1=`, "invalid_signature"],
    ["an empty t", `t=,v1=${"a".repeat(64)}`, "invalid_timestamp"],
    ["a negative t", `t=-${NOW},v1=${"a".repeat(64)}`, "invalid_timestamp"],
    ["t with spaces inside the item", `t = ${NOW},v1=${"a".repeat(64)}`, "missing_timestamp"],
  ])("answers %s with %s", async (_label, value, code) => {
    expect(await codeOf(verifier().verify({ payload: BODY, signature: value }))).toBe(code);
  });

  it("keeps the X- format's answers when its timestamp header is absent", async () => {
    const { signature } = await signed();
    expect(await codeOf(verifier().verify({ payload: BODY, signature }))).toBe("missing_timestamp");
    expect(
      await codeOf(verifier().verify({ payload: BODY, signature, timestamp: undefined })),
    ).toBe("missing_timestamp");
  });
});

describe("WebhookVerifier.verifySync", () => {
  it("returns what verify() resolves to on node:crypto, and refuses to run on Web Crypto", async () => {
    const { signature } = await signed();
    const input = { payload: BODY, signature, timestamp: String(NOW) };
    const v = verifier();
    if (v.engine === "node:crypto") {
      expect(v.verifySync(input)).toEqual(await v.verify(input));
      expect(v.verifyDeliverySync(input)).toEqual(await v.verifyDelivery(input));
      let caught: unknown;
      try {
        v.verifySync({ ...input, signature: "0".repeat(64) });
      } catch (error) {
        caught = error;
      }
      expect((caught as WebhookSignatureError).code).toBe("invalid_signature");
    } else {
      expect(() => v.verifySync(input)).toThrow(WebhookConfigError);
      expect(() => v.verifySync(input)).toThrow(/await verifier\.verify\(\)/);
    }
  });
});

describe("reading the signature headers from a record", () => {
  it("ignores inherited keys and reads Node's one-value lists and numbers", async () => {
    const { signature } = await signed();
    const inherited = Object.create({ "kallima-signature": "t=1,v1=nope" }) as Record<
      string,
      unknown
    >;
    inherited["x-kallima-signature"] = [signature];
    inherited["x-kallima-timestamp"] = NOW;
    expect(
      await codeOf(
        verifier().verify({ payload: BODY, headers: inherited as Record<string, string> }),
      ),
    ).toBe("ok");
  });

  it("counts one header under two spellings, or a list of two, as repeated", async () => {
    const { signature } = await signed();
    const timestamp = String(NOW);
    for (const headers of [
      {
        "x-kallima-signature": [signature],
        "X-Kallima-Signature": signature,
        "x-kallima-timestamp": timestamp,
      },
      { "x-kallima-signature": signature, "x-kallima-timestamp": [timestamp, timestamp] },
      {
        "x-kallima-signature": [],
        "X-KALLIMA-SIGNATURE": [signature],
        "x-kallima-timestamp": timestamp,
      },
    ]) {
      const code = await codeOf(verifier().verify({ payload: BODY, headers }));
      expect(code, JSON.stringify(Object.keys(headers))).toBe(
        headers["x-kallima-signature"].length === 0
          ? "ok"
          : Array.isArray(headers["x-kallima-timestamp"])
            ? "invalid_timestamp"
            : "invalid_signature",
      );
    }
  });
});
