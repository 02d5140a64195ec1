// workerd: the vectors file is bundled in (a worker cannot read files); any request answers the report.
import vectorFile from "kallima-test-vectors";
import { checkVectors } from "./check-vectors.mjs";

export default {
  async fetch() {
    return Response.json(await checkVectors(vectorFile));
  },
};
