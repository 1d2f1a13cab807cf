/**
 * A scratch working directory for CLI tests: commands spawned there keep their default outputs (the
 * run store `out/runs.sqlite` that `train` fills, `out/reproduce…`) out of the repository.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SCRATCH = mkdtempSync(join(tmpdir(), 'advbias-cwd-'));
