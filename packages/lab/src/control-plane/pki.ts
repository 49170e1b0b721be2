// The throw-away PKI of one local control plane: a CA, the API server's serving certificate
// for 127.0.0.1/localhost, client certificates (admin in system:masters, the controller
// manager) and the service-account signing key pair. Lives only in the run directory.
//
// Certificates come from the `openssl` CLI (OpenSSL 3, in Debian's base `openssl` package):
// it needs no npm dependency, and the well-kept npm option (@peculiar/x509) requires a global
// `reflect-metadata` polyfill that would leak into every test process importing the lab.
// Kubernetes' own local-up-cluster scripts generate their certificates the same way.
import { execFile } from 'node:child_process';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LabError } from '../lab-error.js';

const run = promisify(execFile);

export interface CertificateFiles {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

export interface LeafRequest {
  /** File stem in the PKI dir: `<name>.crt`, `<name>.key`. */
  name: string;
  commonName: string;
  /** X.509 O= entries; Kubernetes reads them as the user's groups. */
  organizations?: string[];
  usage: 'server' | 'client';
  dnsNames?: string[];
  ipAddresses?: string[];
}

export interface ControlPlanePki {
  ca: CertificateFiles;
  apiserver: CertificateFiles;
  admin: CertificateFiles;
  controllerManager: CertificateFiles;
  serviceAccountPublicKeyPath: string;
  serviceAccountPrivateKeyPath: string;
}

const VALID_DAYS = '30';

export async function createControlPlanePki(dir: string): Promise<ControlPlanePki> {
  const [ca, serviceAccount] = await Promise.all([createCa(dir, 'herdless-lab-ca'), writeServiceAccountKeys(dir)]);
  const [apiserver, admin, controllerManager] = await Promise.all([
    issueCertificate(dir, ca, {
      name: 'apiserver',
      commonName: 'kube-apiserver',
      usage: 'server',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      ipAddresses: ['127.0.0.1'],
    }),
    // system:masters bypasses RBAC: the admin of a throw-away cluster.
    issueCertificate(dir, ca, { name: 'admin', commonName: 'herdless-admin', organizations: ['system:masters'], usage: 'client' }),
    // The bootstrap RBAC policy grants this user name what the controller manager needs.
    issueCertificate(dir, ca, { name: 'controller-manager', commonName: 'system:kube-controller-manager', usage: 'client' }),
  ]);
  return { ca, apiserver, admin, controllerManager, ...serviceAccount };
}

export async function createCa(dir: string, commonName: string): Promise<CertificateFiles> {
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  const config = join(dir, 'ca.cnf');
  await writeFile(config, opensslConfig(['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign, digitalSignature', 'subjectKeyIdentifier = hash']));
  await openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', VALID_DAYS, '-subj', `/CN=${commonName}`,
    '-config', config, '-extensions', 'ext', '-set_serial', randomSerial(),
  ]);
  return readPair(certPath, keyPath);
}

export async function issueCertificate(dir: string, ca: CertificateFiles, request: LeafRequest): Promise<CertificateFiles> {
  const certPath = join(dir, `${request.name}.crt`);
  const keyPath = join(dir, `${request.name}.key`);
  const csrPath = join(dir, `${request.name}.csr`);
  const config = join(dir, `${request.name}.cnf`);
  await writeFile(config, opensslConfig(leafExtensions(request)));
  await openssl([
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', csrPath, '-subj', subject(request), '-config', config,
  ]);
  await openssl([
    'x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', randomSerial(),
    '-days', VALID_DAYS, '-out', certPath, '-extfile', config, '-extensions', 'ext',
  ]);
  return readPair(certPath, keyPath);
}

/** The extension lines of a leaf certificate (pure, for tests). */
export function leafExtensions(request: LeafRequest): string[] {
  const lines = [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    `extendedKeyUsage = ${request.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    'authorityKeyIdentifier = keyid',
  ];
  const sans = [...(request.dnsNames ?? []).map((d) => `DNS:${d}`), ...(request.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
  if (sans.length > 0) lines.push(`subjectAltName = ${sans.join(', ')}`);
  return lines;
}

/** `/O=system:masters/CN=admin` (pure, for tests). Slashes and backslashes are escaped. */
export function subject(request: Pick<LeafRequest, 'commonName' | 'organizations'>): string {
  const escape = (v: string) => v.replace(/[\\/]/g, (c) => `\\${c}`);
  return [...(request.organizations ?? []).map((o) => `/O=${escape(o)}`), `/CN=${escape(request.commonName)}`].join('');
}

function opensslConfig(extensions: string[]): string {
  // A config of our own: the system one would add its v3_ca defaults to every certificate.
  return ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', '[ext]', ...extensions, ''].join('\n');
}

async function writeServiceAccountKeys(dir: string) {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const serviceAccountPublicKeyPath = join(dir, 'sa.pub');
  const serviceAccountPrivateKeyPath = join(dir, 'sa.key');
  await writeFile(serviceAccountPublicKeyPath, publicKey);
  await writeFile(serviceAccountPrivateKeyPath, privateKey, { mode: 0o600 });
  return { serviceAccountPublicKeyPath, serviceAccountPrivateKeyPath };
}

async function readPair(certPath: string, keyPath: string): Promise<CertificateFiles> {
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  return { certPath, keyPath, certPem, keyPem };
}

function randomSerial(): string {
  // Positive 127-bit serial: RFC 5280 wants unique, non-negative serials of at most 20 bytes.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (cause) {
    const err = cause as NodeJS.ErrnoException & { stderr?: string };
    const detail = err.code === 'ENOENT' ? 'the openssl CLI is not installed (apt-get install openssl)' : (err.stderr ?? err.message);
    throw new LabError('CertificateGenerationFailed', `openssl ${args[0]} failed: ${detail}`, { cause });
  }
}
