// Writes crds/*.yaml (and the chart's copy) from the TypeScript source of truth (operator/src/api/). Run after changing a
// CRD schema: `npx node hack/gen-crds.ts`. operator/src/api/crds.test.ts fails when they are stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_DIRS, renderCrds } from '../operator/src/api/crds.ts';

const repo = new URL('..', import.meta.url).pathname;
for (const dir of CRD_DIRS) {
  for (const [file, text] of Object.entries(renderCrds())) {
    writeFileSync(join(repo, dir, file), text);
    console.log(`wrote ${dir}/${file}`);
  }
}
