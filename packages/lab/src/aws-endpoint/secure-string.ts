// What our Parameter Store returns for a SecureString read without WithDecryption. AWS
// returns the KMS ciphertext blob, base64-encoded; we have no KMS, so we return a stand-in
// that is just as useless to a client that forgot the flag: base64 of the 5 header bytes real
// KMS blobs start with (so it reads "AQICAH…", as AWS's do) followed by an HMAC-SHA256 of
// (KeyId, name, version, value) under a fixed lab key. It is deterministic (the same version
// always reads the same), differs between versions and keys, carries no plaintext and cannot
// be decrypted: a test can tell it apart from the value and from another version's, nothing more.
import { createHmac } from 'node:crypto';

const KMS_BLOB_HEADER = Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78]);
const LAB_KEY = 'herdless-lab-parameter-store-secure-string-v1';

export interface SecureStringVersion {
  keyId: string;
  name: string;
  version: number;
  value: string;
}

export function encryptedSecureString({ keyId, name, version, value }: SecureStringVersion): string {
  const mac = createHmac('sha256', LAB_KEY).update(`${keyId}\0${name}\0${version}\0${value}`, 'utf8').digest();
  return Buffer.concat([KMS_BLOB_HEADER, mac]).toString('base64');
}
