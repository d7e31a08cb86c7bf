// Version ids: 24 characters that sort newest first as strings (an inverted microsecond time, then
// randomness), so the metadata store keeps a key's versions newest first and a version-id marker
// whose version has since gone still says where a listing resumes (s3/semantics/versioning.ts).
import { randomBytes } from 'node:crypto';

// base32hex keeps the numeric order in string order; lower case so ids survive case-folding tools.
const DIGITS = '0123456789abcdefghijklmnopqrstuv';
const TIME_CHARS = 11; // 55 bits of microseconds: until the year 3111
const TIME_MAX = (1n << 55n) - 1n;

function base32(value: bigint, chars: number): string {
  let out = '';
  for (let i = 0; i < chars; i++) {
    out = DIGITS[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/** A new version id for a write stamped `timestampMs`: 24 characters, newer ids sort first. */
export function newVersionId(timestampMs: number, random: Uint8Array = randomBytes(8)): string {
  const micros = BigInt(Math.floor(timestampMs * 1000));
  if (micros < 0n || micros > TIME_MAX) throw new RangeError('timestamp out of range for a version id');
  return base32(TIME_MAX - micros, TIME_CHARS) + base32(BigInt('0x' + Buffer.from(random).toString('hex').padStart(16, '0')), 13);
}

/** The write time (ms) inside a version id Cairn issued; undefined for `null` and foreign ids. */
export function versionIdTime(id: string): number | undefined {
  if (!/^[0-9a-v]{24}$/.test(id)) return undefined;
  let v = 0n;
  for (const c of id.slice(0, TIME_CHARS)) v = (v << 5n) | BigInt(DIGITS.indexOf(c));
  return Number(TIME_MAX - v) / 1000;
}
