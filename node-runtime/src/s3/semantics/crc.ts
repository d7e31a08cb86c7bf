// CRC-32C and CRC-64/NVME, table-driven (slicing-by-8), and the CRC combination that gives a whole object's CRC from its parts' CRCs.
//
// Both are reflected CRCs with all-ones init and final xor, like zlib's CRC-32 (which Node
// computes natively: node:zlib crc32). CRC-32C: polynomial 0x82F63B78 (reversed Castagnoli),
// check value of "123456789" e3069283. CRC-64/NVME: polynomial 0x9A6C9329AC4BC9B5 (reversed),
// check ae8b14860a799888. CRC-64 runs on two 32-bit halves: JavaScript's bitwise operators are
// 32-bit and BigInt per byte is far too slow for object data.
// Combination follows zlib's crc32_combine: crc(A‖B) = crc(A)·x^(8·|B|) mod P ⊕ crc(B), with
// polynomials held bit-reflected; it is per part, so BigInt there is fine and serves both widths.

const CRC32C_POLY = 0x82f63b78;
const CRC64_POLY = 0x9a6c9329ac4bc9b5n;

function crc32Tables(poly: number): Uint32Array[] {
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t0[i] = c >>> 0;
  }
  const tables = [t0];
  for (let s = 1; s < 8; s++) {
    const prev = tables[s - 1];
    const t = new Uint32Array(256);
    for (let i = 0; i < 256; i++) t[i] = ((prev[i] >>> 8) ^ t0[prev[i] & 0xff]) >>> 0;
    tables.push(t);
  }
  return tables;
}

// 64-bit tables as [hi, lo] 32-bit halves.
function crc64Tables(poly: bigint): { hi: Uint32Array[]; lo: Uint32Array[] } {
  const big: bigint[][] = [[]];
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    big[0].push(c);
  }
  for (let s = 1; s < 8; s++) big.push(big[s - 1].map((v) => (v >> 8n) ^ big[0][Number(v & 0xffn)]));
  return {
    hi: big.map((t) => Uint32Array.from(t, (v) => Number(v >> 32n))),
    lo: big.map((t) => Uint32Array.from(t, (v) => Number(v & 0xffffffffn))),
  };
}

let c32: Uint32Array[] | undefined;
let c64: { hi: Uint32Array[]; lo: Uint32Array[] } | undefined;

/** Continue a CRC-32C over `data`; start from 0 (the register's init and final xor are applied here). */
export function crc32c(data: Uint8Array, previous = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = (c32 ??= crc32Tables(CRC32C_POLY));
  let crc = ~previous >>> 0;
  let i = 0;
  const n = data.length;
  for (; i + 8 <= n; i += 8) {
    const a = (crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    crc = t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^ t3[data[i + 4]] ^ t2[data[i + 5]] ^ t1[data[i + 6]] ^ t0[data[i + 7]];
  }
  for (; i < n; i++) crc = t0[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** A running CRC-64/NVME; `value` is the finished CRC of everything so far. */
export class Crc64Nvme {
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(data: Uint8Array): this {
    const { hi: H, lo: L } = (c64 ??= crc64Tables(CRC64_POLY));
    let hi = this.hi;
    let lo = this.lo;
    let i = 0;
    const n = data.length;
    for (; i + 8 <= n; i += 8) {
      // bytes 0-3 meet the register's low half, 4-7 its high half; byte j looks up table 7-j
      const a = (lo ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
      const b = (hi ^ (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24))) >>> 0;
      const i0 = a & 0xff,
        i1 = (a >>> 8) & 0xff,
        i2 = (a >>> 16) & 0xff,
        i3 = a >>> 24;
      const i4 = b & 0xff,
        i5 = (b >>> 8) & 0xff,
        i6 = (b >>> 16) & 0xff,
        i7 = b >>> 24;
      hi = H[7][i0] ^ H[6][i1] ^ H[5][i2] ^ H[4][i3] ^ H[3][i4] ^ H[2][i5] ^ H[1][i6] ^ H[0][i7];
      lo = L[7][i0] ^ L[6][i1] ^ L[5][i2] ^ L[4][i3] ^ L[3][i4] ^ L[2][i5] ^ L[1][i6] ^ L[0][i7];
    }
    const H0 = H[0],
      L0 = L[0];
    for (; i < n; i++) {
      const idx = (lo ^ data[i]) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ L0[idx]) >>> 0;
      hi = ((hi >>> 8) ^ H0[idx]) >>> 0;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }

  get value(): bigint {
    return (BigInt(~this.hi >>> 0) << 32n) | BigInt(~this.lo >>> 0);
  }
}

export function crc64nvme(data: Uint8Array): bigint {
  return new Crc64Nvme().update(data).value;
}

// ---- combination (zlib's multmodp / x2nmodp, generalised to a width) ----

interface CrcPoly {
  width: bigint;
  poly: bigint;
}
export const CRC32_IEEE: CrcPoly = { width: 32n, poly: 0xedb88320n };
export const CRC32C: CrcPoly = { width: 32n, poly: BigInt(CRC32C_POLY) };
export const CRC64_NVME: CrcPoly = { width: 64n, poly: CRC64_POLY };

/** a·b mod P, both bit-reflected (the top bit is x^0). */
function multModP(p: CrcPoly, a: bigint, b: bigint): bigint {
  let m = 1n << (p.width - 1n);
  let product = 0n;
  for (;;) {
    if (a & m) {
      product ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ p.poly : b >> 1n;
  }
  return product;
}

const powerTables = new WeakMap<CrcPoly, bigint[]>();

/** x^(2^k) mod P for k = 0..63. */
function powers(p: CrcPoly): bigint[] {
  let t = powerTables.get(p);
  if (!t) {
    t = [];
    let x = 1n << (p.width - 2n); // x^1
    for (let k = 0; k < 64; k++) {
      t.push(x);
      x = multModP(p, x, x);
    }
    powerTables.set(p, t);
  }
  return t;
}

/** CRC of A‖B from crc(A), crc(B) and |B| in bytes. */
export function combineCrc(p: CrcPoly, crcA: bigint, crcB: bigint, lengthB: number): bigint {
  const table = powers(p);
  let xn = 1n << (p.width - 1n); // x^0
  let n = BigInt(lengthB);
  let k = 3; // bytes → bits: x^(8n) = x^(n·2^3)
  while (n > 0n) {
    if (n & 1n) xn = multModP(p, table[k], xn);
    n >>= 1n;
    k++;
  }
  return multModP(p, xn, crcA) ^ crcB;
}
