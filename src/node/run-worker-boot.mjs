// Worker threads do not inherit the parent's `--import tsx`: register tsx's loader here, then load
// the TypeScript worker (src/node/run-worker.ts).
import { register } from 'tsx/esm/api';

register();
await import('./run-worker.ts');
