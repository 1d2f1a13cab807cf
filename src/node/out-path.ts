/**
 * Output locations checked before anything long starts: `--out` folders of train and reproduce,
 * `--out FILE` of runs export / compare and schema, and the folder of a `--store` file. A location
 * that is a file, lies under a file, cannot be created or is not writable (a read-only folder, a
 * virtual file system such as /proc) is one InputError line naming the flag — never an internal
 * error after the work is done, and never a hang. Node only.
 */
import { closeSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, parse, resolve, sep } from 'node:path';
import { InputError } from '../errors.ts';

/** A short reason for a file-system error code. */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder (or a virtual file system that takes no new files, such as /proc)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'EEXIST':
      return 'it already exists as a file';
    case 'EISDIR':
      return 'it is a folder';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return code ?? String((e as Error)?.message ?? e).replace(/\s+/g, ' ');
  }
}

/**
 * Creates `dir` and its missing parents one level at a time. (Node's `mkdirSync(…, {recursive:
 * true})` never returns under /proc: each level answers ENOENT and it retries forever.) Throws an
 * InputError naming `flag` when a part of the path is a file or a folder cannot be created.
 */
export function makeFolders(dir: string, flag: string, shown = dir): void {
  const abs = resolve(dir);
  const root = parse(abs).root;
  const parts = abs.slice(root.length).split(sep).filter((s) => s !== '');
  let at = root;
  for (const part of parts) {
    at = join(at, part);
    let isDir: boolean | null = null;
    try {
      isDir = statSync(at).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new InputError(`${flag} "${shown}": cannot use "${at}": ${fsReason(e)}`, flag.replace(/^--/, ''));
    }
    if (isDir === false) throw new InputError(`${flag} "${shown}": "${at}" is a file, not a folder`, flag.replace(/^--/, ''));
    if (isDir === true) continue;
    try {
      mkdirSync(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(at).isDirectory()) continue; // made by another process meanwhile
      throw new InputError(`${flag} "${shown}": cannot create the folder "${at}": ${fsReason(e)}`, flag.replace(/^--/, ''));
    }
  }
}

/** Writes and removes a probe file in `dir`: an InputError naming `flag` when that fails. */
export function probeWritable(dir: string, shown: string, flag: string): void {
  const probe = join(dir, `.advbias-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(probe, 'wx');
    try {
      writeSync(fd, 'ok');
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (e) {
    throw new InputError(`${flag} "${shown}": cannot write in the folder "${dir}": ${fsReason(e)}`, flag.replace(/^--/, ''));
  }
}

/**
 * An output folder, ready before the work starts: created when missing (with its parents), and
 * writable. Throws an InputError naming `flag` (a file, under a file, not writable, /proc, …).
 */
export function prepareOutFolder(dir: string, flag = '--out'): void {
  if (dir.trim() === '') throw new InputError(`${flag} "": expected a folder`, flag.replace(/^--/, ''));
  makeFolders(dir, flag);
  probeWritable(dir, dir, flag);
}

/**
 * An output file, checked before the work starts: its folder is created when missing and must be
 * writable, and the file, when it exists, must not be a folder. Throws an InputError naming `flag`.
 */
export function prepareOutFile(file: string, flag = '--out'): void {
  if (file.trim() === '') throw new InputError(`${flag} "": expected a file name`, flag.replace(/^--/, ''));
  const dir = dirname(file);
  makeFolders(dir, flag, file);
  try {
    if (statSync(file).isDirectory()) throw new InputError(`${flag} "${file}": it is a folder; give a file name`, flag.replace(/^--/, ''));
  } catch (e) {
    if (e instanceof InputError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new InputError(`${flag} "${file}": ${fsReason(e)}`, flag.replace(/^--/, ''));
  }
  probeWritable(dir, file, flag);
}
