import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import QRCode from 'qrcode';
import { qrPngBuffer } from '../../src/visits/qr-png.js';

/** Reads a 1-bit greyscale, non-interlaced PNG back into rows of booleans (true = black). */
function decode(png: Buffer): { width: number; height: number; black: boolean[][] } {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    expect(png.readUInt32BE(at + 8 + len), `${type} CRC`).toBe(zlib.crc32(png.subarray(at + 4, at + 8 + len)));
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([...data.subarray(8)]).toEqual([1, 0, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const rowBytes = Math.ceil(width / 8);
  expect(raw.length).toBe((rowBytes + 1) * height);
  const black: boolean[][] = [];
  for (let y = 0; y < height; y++) {
    expect(raw[y * (rowBytes + 1)], 'filter type').toBe(0);
    black.push(Array.from({ length: width }, (_, x) => (raw[y * (rowBytes + 1) + 1 + (x >> 3)] & (0x80 >> (x & 7))) === 0));
  }
  return { width, height, black };
}

describe('QR code PNG', () => {
  it.each(['ABCD2345', 'X', 'a longer text that needs a larger QR code version'])('draws every module of %j at a whole pixel scale inside the quiet zone', (text) => {
    const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
    const margin = 2;
    const { width, height, black } = decode(qrPngBuffer(text, { errorCorrectionLevel: 'M', margin, width: 200 }));
    const scale = Math.floor(200 / (modules.size + 2 * margin));
    expect(width).toBe((modules.size + 2 * margin) * scale);
    expect(height).toBe(width);
    expect(width).toBeLessThanOrEqual(200);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const my = Math.floor(y / scale) - margin;
        const mx = Math.floor(x / scale) - margin;
        const inside = my >= 0 && mx >= 0 && my < modules.size && mx < modules.size;
        const expected = inside && !!modules.get(my, mx);
        if (black[y][x] !== expected) throw new Error(`pixel (${x}, ${y}) is ${black[y][x] ? 'black' : 'white'}, module (${mx}, ${my}) wants ${expected ? 'black' : 'white'}`);
      }
  });
});
