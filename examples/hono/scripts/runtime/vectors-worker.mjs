// workerd: the vectors file is bundled in (a worker cannot read files); any request answers the report.
import vectorFile from "kallima-test-vectors";
import { checkObservability } from "./check-observability.mjs";
import { checkVectors } from "./check-vectors.mjs";

export default {
  async fetch() {
    const report = await checkVectors(vectorFile);
    return Response.json({ ...report, observability: await checkObservability() });
  },
};
