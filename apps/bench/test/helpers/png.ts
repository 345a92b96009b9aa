/**
 * Just enough of PNG to check a screenshot: decodes an 8-bit RGB or RGBA, non-interlaced image
 * (what Chromium writes) into its pixels with node:zlib.
 */
import { inflateSync } from 'node:zlib';

export interface Image {
  readonly width: number;
  readonly height: number;
  /** RGB per pixel, row after row. */
  readonly rgb: Uint8Array;
}

const kSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function decodePng(file: Buffer): Image {
  if (!file.subarray(0, 8).equals(kSignature)) throw new Error('not a PNG file');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('latin1', offset + 4, offset + 8);
    const body = file.subarray(offset + 8, offset + 8 + length);
    offset += 12 + length;
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, color, , , interlace] = body.subarray(8, 13);
      if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0) {
        throw new Error(
          `unsupported PNG: depth ${depth}, colour type ${color}, interlace ${interlace}`,
        );
      }
      channels = color === 2 ? 3 : 4;
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      break;
    }
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? pixels[row + x - channels]! : 0;
      const up = y > 0 ? pixels[row - stride + x]! : 0;
      const upLeft = y > 0 && x >= channels ? pixels[row - stride + x - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = (left + up) >> 1;
      else if (filter === 4) {
        const estimate = left + up - upLeft;
        const [a, b, c] = [
          Math.abs(estimate - left),
          Math.abs(estimate - up),
          Math.abs(estimate - upLeft),
        ];
        predictor = a <= b && a <= c ? left : b <= c ? up : upLeft;
      } else if (filter !== 0) throw new Error(`bad PNG filter ${filter} on row ${y}`);
      pixels[row + x] = (line[x]! + predictor) & 0xff;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let index = 0; index < width * height; index++) {
    rgb[index * 3] = pixels[index * channels]!;
    rgb[index * 3 + 1] = pixels[index * channels + 1]!;
    rgb[index * 3 + 2] = pixels[index * channels + 2]!;
  }
  return { width, height, rgb };
}

/** Pixels of exactly the colour `#rrggbb` in the rectangle (the whole image by default). */
export function countColor(
  image: Image,
  hex: string,
  area = { x: 0, y: 0, width: image.width, height: image.height },
): number {
  const [r, g, b] = [1, 3, 5].map((start) => Number.parseInt(hex.slice(start, start + 2), 16));
  let count = 0;
  for (let y = area.y; y < area.y + area.height; y++) {
    for (let x = area.x; x < area.x + area.width; x++) {
      const index = (y * image.width + x) * 3;
      if (image.rgb[index] === r && image.rgb[index + 1] === g && image.rgb[index + 2] === b) {
        count += 1;
      }
    }
  }
  return count;
}

/** The share of pixels that are not white, and how many distinct colours the image has. */
export function inkStats(image: Image): { readonly ink: number; readonly colors: number } {
  const colors = new Set<number>();
  let ink = 0;
  for (let index = 0; index < image.width * image.height; index++) {
    const [r, g, b] = [image.rgb[index * 3]!, image.rgb[index * 3 + 1]!, image.rgb[index * 3 + 2]!];
    colors.add((r << 16) | (g << 8) | b);
    if (r < 250 || g < 250 || b < 250) ink += 1;
  }
  return { ink: ink / (image.width * image.height), colors: colors.size };
}
