// workerd: the vectors and the signed deliveries are bundled in (a worker cannot read files) as
// the modules "kallima-test-vectors" and "kallima-observed-deliveries"; any request answers the
// report, with the observability report under `observability`.
import deliveries from "kallima-observed-deliveries";
import vectorFile from "kallima-test-vectors";
import { checkVectors } from "./check-vectors.js";
import { observe } from "./observe.js";

export default {
  async fetch(): Promise<Response> {
    const report = await checkVectors(vectorFile);
    return Response.json({ ...report, observability: await observe(deliveries) });
  },
};
