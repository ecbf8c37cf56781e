/**
 * The CLI's own TLS (`--tls-cert`, `--tls-key`): the PEM pair read and checked, and re-read on
 * SIGHUP without dropping the sockets already open. See docs/cli.md, *TLS*.
 * @module
 */
import { readFile } from 'node:fs/promises';
import type https from 'node:https';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Logger } from '../logger.js';

/** Where the certificate chain and its private key are. */
export interface TlsFiles {
  /** The certificate (PEM), followed by any intermediates. */
  certFile: string;
  /** The certificate's private key (PEM, unencrypted). */
  keyFile: string;
}

/** A certificate and key that belong together, as read from {@link TlsFiles}. */
export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  /** The SHA-256 fingerprint of the (first) certificate, `AB:CD:…`, for the log. */
  fingerprint256: string;
  /** When the certificate expires, as in the certificate. */
  validTo: string;
}

/**
 * Reads both files and checks that they hold a certificate and the key that belongs to it. Throws
 * an `Error` naming the flag or the problem.
 */
export async function readTlsPair(files: TlsFiles): Promise<TlsPair> {
  const read = async (flag: string, file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`${flag}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  const cert = await read('--tls-cert', files.certFile);
  const key = await read('--tls-key', files.keyFile);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`--tls-cert: ${files.certFile} holds no PEM certificate: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    // What the server would do with them; throws on a bad key or one that does not match.
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(
      `--tls-key: ${files.keyFile} is not the private key of ${files.certFile}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { cert, key, fingerprint256: x509.fingerprint256, validTo: x509.validTo };
}

/** The part of a {@link TlsPair} that `https.createServer` and `setSecureContext` take. */
export function secureContextOptions(pair: TlsPair): SecureContextOptions {
  return { cert: pair.cert, key: pair.key };
}

/**
 * Re-reads the pair and gives it to `server` for new connections (open ones keep theirs). A pair
 * that cannot be read or does not match is logged as an error and the current one kept. Resolves
 * with whether the new pair is in use.
 */
export async function reloadTls(server: https.Server, files: TlsFiles, log: Logger): Promise<boolean> {
  let pair: TlsPair;
  try {
    pair = await readTlsPair(files);
    server.setSecureContext(secureContextOptions(pair));
  } catch (err) {
    log.error({ err, ...files }, 'TLS reload failed; keeping the current certificate');
    return false;
  }
  log.info({ fingerprint256: pair.fingerprint256, validTo: pair.validTo }, 'TLS certificate reloaded');
  return true;
}
