// Writes crds/*.yaml from the TypeScript source of truth (operator/src/api/). Run after changing a
// CRD schema: `npx node hack/gen-crds.ts`. operator/src/api/crds.test.ts fails when they are stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrds } from '../operator/src/api/crds.ts';

const dir = new URL('../crds', import.meta.url).pathname;
for (const [file, text] of Object.entries(renderCrds())) {
  writeFileSync(join(dir, file), text);
  console.log(`wrote crds/${file}`);
}
