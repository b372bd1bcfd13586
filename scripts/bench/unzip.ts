// Enough of the zip format to unpack a serverless package: stored and deflated entries, checked by CRC-32.
// (No unzip binary is assumed on the machine, and no dependency is needed for this.)

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** The file entries of a zip archive (directories left out). Throws on anything it cannot read faithfully. */
export function readZip(zip: Buffer): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL) throw new Error(`zip: no central directory entry at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localAt = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;

    if (zip.readUInt32LE(localAt) !== LOCAL) throw new Error(`zip: no local header for ${name}`);
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    const raw = zip.subarray(dataAt, dataAt + compressedSize);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw);
    else throw new Error(`zip: ${name} uses compression method ${method}`);
    if (data.length !== size || crc32(data) !== crc) throw new Error(`zip: ${name} is corrupt`);
    entries.push({ name, data });
  }
  return entries;
}

/** Writes the entries under `dir`, refusing names that would land outside it. Returns the written paths. */
export function extractZip(zip: Buffer, dir: string): string[] {
  return readZip(zip).map(({ name, data }) => {
    const relative = normalize(name);
    if (relative.startsWith(`..${sep}`) || relative === '..' || relative.startsWith(sep)) {
      throw new Error(`zip: entry ${name} points outside the target directory`);
    }
    const path = join(dir, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
    return path;
  });
}

function findEndOfCentralDirectory(zip: Buffer): number {
  const last = zip.length - EOCD_SIZE;
  for (let at = last; at >= 0 && at >= last - MAX_COMMENT; at--) {
    if (zip.readUInt32LE(at) === EOCD) return at;
  }
  throw new Error('zip: no end of central directory (not a zip file?)');
}
