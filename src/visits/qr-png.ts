/**
 * The check-in QR code as a PNG: the qrcode library makes the symbol (the hard part), this writes it
 * as a 1-bit greyscale image at a whole number of pixels per module. qrcode's own PNG path fills a
 * 32-bit RGBA canvas at a fractional scale and filters every byte through pngjs: ~2 ms per image,
 * and every confirmation e-mail carries one. This is ~0.3 ms, smaller, and its modules are sharp
 * (a whole-pixel module scans better once a mail client scales the image).
 */
import zlib from 'node:zlib';
import QRCode from 'qrcode';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface QrPngOptions {
  errorCorrectionLevel: QRCode.QRCodeErrorCorrectionLevel;
  /** Quiet zone, in modules. */
  margin: number;
  /** Largest image side in pixels; the module size is the largest whole number that fits. */
  width: number;
}

export function qrPngBuffer(text: string, o: QrPngOptions): Buffer {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: o.errorCorrectionLevel });
  const side = modules.size + 2 * o.margin;
  const scale = Math.max(1, Math.floor(o.width / side));
  const px = side * scale;
  const rowBytes = Math.ceil(px / 8);
  // Per row: filter byte 0 (none), then pixels MSB first; bit 1 is white. One row per module row,
  // copied `scale` times.
  const raw = Buffer.alloc((rowBytes + 1) * px, 0xff);
  const line = Buffer.alloc(rowBytes + 1);
  for (let y = 0; y < px; y++) raw[y * (rowBytes + 1)] = 0;
  for (let my = 0; my < modules.size; my++) {
    line.fill(0xff);
    line[0] = 0;
    for (let mx = 0; mx < modules.size; mx++) {
      if (!modules.get(my, mx)) continue;
      for (let x = (mx + o.margin) * scale, end = x + scale; x < end; x++) line[1 + (x >> 3)] &= ~(0x80 >> (x & 7));
    }
    for (let y = (my + o.margin) * scale, end = y + scale; y < end; y++) line.copy(raw, y * (rowBytes + 1));
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(px, 0);
  header.writeUInt32BE(px, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale; compression, filter and interlace method stay 0
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
