import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { extractZip, readZip } from '../../scripts/bench/unzip.ts';

interface Entry {
  name: string;
  data: Buffer;
  method: 0 | 8;
}

/** A zip archive written field by field from the format's specification (APPNOTE.TXT, sections 4.3.7–4.3.16). */
function zipOf(entries: Entry[], comment = ''): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data, method } of entries) {
    const body = method === 8 ? deflateRawSync(data) : data;
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(Buffer.byteLength(comment), 20);
  return Buffer.concat([...locals, directory, end, Buffer.from(comment)]);
}

const handler = Buffer.from(`export const handler = async () => ${JSON.stringify('x'.repeat(500))};\n`);
const readme = Buffer.from('stored as is');

describe('readZip', () => {
  it('reads deflated and stored entries and skips directories', () => {
    const zip = zipOf([
      { name: 'handlers/', data: Buffer.alloc(0), method: 0 },
      { name: 'handlers/cancel.mjs', data: handler, method: 8 },
      { name: 'README', data: readme, method: 0 },
    ]);
    const entries = readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(['handlers/cancel.mjs', 'README']);
    expect(entries[0]?.data.equals(handler)).toBe(true);
    expect(entries[1]?.data.equals(readme)).toBe(true);
  });

  it('finds the directory behind an archive comment', () => {
    const zip = zipOf([{ name: 'a.txt', data: readme, method: 8 }], 'packaged by a test');
    expect(readZip(zip).map((e) => e.name)).toEqual(['a.txt']);
  });

  it('throws when an entry does not match its CRC', () => {
    const zip = zipOf([{ name: 'a.txt', data: readme, method: 0 }]);
    const dataAt = 30 + 'a.txt'.length;
    zip.writeUInt8(zip.readUInt8(dataAt) ^ 0xff, dataAt);
    expect(() => readZip(zip)).toThrow(/a\.txt is corrupt/);
  });

  it('throws on a file that is not a zip archive', () => {
    expect(() => readZip(Buffer.alloc(64, 1))).toThrow(/not a zip/);
  });
});

describe('extractZip', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes each file under the target directory', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-unzip-'));
    const written = extractZip(zipOf([{ name: 'handlers/cancel.mjs', data: handler, method: 8 }]), dir);
    expect(written).toEqual([join(dir, 'handlers', 'cancel.mjs')]);
    expect(readFileSync(join(dir, 'handlers', 'cancel.mjs')).equals(handler)).toBe(true);
  });

  it('refuses an entry that climbs out of the target directory', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-unzip-'));
    const zip = zipOf([{ name: '../escaped.txt', data: readme, method: 0 }]);
    expect(() => extractZip(zip, dir)).toThrow(/outside the target directory/);
  });
});
