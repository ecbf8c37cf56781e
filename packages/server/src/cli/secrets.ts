/**
 * The CLI's secrets: passwords read from a file or an environment variable (never from the command
 * line, where `ps` and shell history show them), and a warning for a secret file that other users
 * can read. See docs/cli.md, *Security*.
 * @module
 */
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../logger.js';

/** The flags that would put a secret on the command line; refused before parsing. */
export const SECRET_FLAGS: readonly string[] = Object.freeze(['--mqtt-password', '--broker-password', '--token']);

/** Whether `argv` holds one of {@link SECRET_FLAGS}, as `--flag value` or `--flag=value`. */
export function hasSecretFlag(argv: readonly string[]): boolean {
  return argv.some((a) => SECRET_FLAGS.some((flag) => a === flag || a.startsWith(`${flag}=`)));
}

/** A file's content with one trailing newline dropped (what `echo secret > file` leaves). */
export async function readSecretFile(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
}

/**
 * Reads the password given by a `--…-password-file` or `--…-password-env` flag (at most one of
 * them is set). Returns `undefined` when neither is; throws an `Error` naming the flag when the
 * file cannot be read or the variable is not set.
 */
export async function readPassword(
  flagPrefix: string,
  file: string | undefined,
  env: string | undefined,
): Promise<string | undefined> {
  if (file !== undefined) {
    try {
      return await readSecretFile(file);
    } catch (err) {
      throw new Error(`${flagPrefix}-file: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (env !== undefined) {
    const password = process.env[env];
    if (password === undefined) throw new Error(`${flagPrefix}-env: the environment variable ${env} is not set`);
    return password;
  }
  return undefined;
}

/**
 * Logs one warning per file in `files` that the group or other users may read or write
 * (`mode & 0o077`), naming the file and its mode and suggesting `chmod 600`. Files that cannot be
 * stat'ed are skipped: reading them fails with its own message.
 */
export async function warnAboutExposedSecretFiles(files: readonly string[], log: Logger): Promise<void> {
  for (const file of files) {
    let mode: number;
    try {
      mode = (await stat(file)).mode;
    } catch {
      continue;
    }
    if ((mode & 0o077) !== 0) {
      log.warn(
        { file, mode: `0${(mode & 0o777).toString(8)}` },
        `secret file readable by other users; restrict it with: chmod 600 ${file}`,
      );
    }
  }
}
