/**
 * Self-signed certificates for TLS tests, made by Debian's `openssl` (scripts/install-system-deps.sh
 * installs it), and the SPKI hash Chromium's `--ignore-certificate-errors-spki-list` takes.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, in memory and on disk. */
export interface TestCert {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
  /** `AB:CD:…`, as `X509Certificate.fingerprint256` and `tls.PeerCertificate.fingerprint256` give it. */
  fingerprint256: string;
}

/**
 * A fresh self-signed P-256 certificate for `CN=localhost`, valid for a day, with the subject
 * alternative names `IP:127.0.0.1` and `DNS:localhost`, written to a new temporary directory.
 * Throws when `openssl` is missing (the tests need it; never a skip).
 */
export async function selfSignedCert(): Promise<TestCert> {
  const dir = await mkdtemp(join(tmpdir(), 'ldf-cert-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl failed (apt-get install openssl): ${r.error?.message ?? r.stderr}`);
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return { cert, key, certFile, keyFile, fingerprint256: new X509Certificate(cert).fingerprint256 };
}

/** The base64 SHA-256 of the certificate's public key (SPKI, DER), for `--ignore-certificate-errors-spki-list`. */
export function spkiHash(cert: Buffer | string): string {
  const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
