// Screenshots of the Xvfb screen: `xwd -root` captures it (what a person would see, whatever
// WebKit is doing), and this turns the XWD image into a PNG with Node's zlib.
import { execFileSync } from "node:child_process";
import { deflateSync } from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
const shift = (mask) => (mask ? 31 - Math.clz32(mask & -mask) : 0);

/** Converts a 24/32-bit TrueColor ZPixmap XWD image to PNG. */
export function xwdToPng(xwd) {
  const h = (i) => xwd.readUInt32BE(i * 4);
  const [headerSize, width, height, byteOrder, bitsPerPixel, bytesPerLine] = [h(0), h(4), h(5), h(7), h(11), h(12)];
  const [rMask, gMask, bMask, ncolors] = [h(14), h(15), h(16), h(19)];
  if (bitsPerPixel !== 32 && bitsPerPixel !== 24) throw new Error(`unsupported XWD: ${bitsPerPixel} bits per pixel`);
  const start = headerSize + ncolors * 12;
  const bpp = bitsPerPixel / 8;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const at = start + y * bytesPerLine + x * bpp;
      const p = bpp === 4 ? (byteOrder === 0 ? xwd.readUInt32LE(at) : xwd.readUInt32BE(at)) : xwd.readUIntLE(at, 3);
      const o = y * (width * 3 + 1) + 1 + x * 3;
      raw[o] = (p & rMask) >>> shift(rMask);
      raw[o + 1] = (p & gMask) >>> shift(gMask);
      raw[o + 2] = (p & bMask) >>> shift(bMask);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

/** The X screen as a PNG. */
export function screenPng() {
  return xwdToPng(execFileSync("xwd", ["-root", "-silent"], { maxBuffer: 64 * 1024 * 1024 }));
}
