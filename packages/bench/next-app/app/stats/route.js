import { handled } from "../counter.js";

// Read at request time, never prerendered at build time.
export const dynamic = "force-dynamic";

export function GET() {
  return Response.json({ handled: handled() });
}
