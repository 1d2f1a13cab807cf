// After `tsc -p tsconfig.build.json`: marks dist/ as built from the current sources (bin/advbias.mjs
// runs dist/ only while this stamp is newer than every file under src/).
import { writeFileSync } from 'node:fs';

writeFileSync(new URL('../dist/.build-stamp', import.meta.url), `${new Date().toISOString()}\n`);
