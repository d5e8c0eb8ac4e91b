// JPEG-LS lossless encoding on a worker thread (jpeg-ls-worker.ts): started on first use,
// one frame at a time in order, ended when idle so an idle box holds no WASM heap. A
// crashed worker fails the frames it had; the next frame starts a new one.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EncodeReply, EncodeRequest } from './jpeg-ls-worker';

export interface FrameInfo {
  readonly width: number;
  readonly height: number;
  readonly bitsPerSample: number;
  readonly componentCount: number;
}

export class CodecError extends Error {
  override name = 'CodecError';
}

const IDLE_MS = 10_000;

let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 1;
const waiting = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();

function start(): Worker {
  const w = new Worker(path.join(__dirname, 'jpeg-ls-worker.js'));
  w.on('message', (reply: EncodeReply) => {
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (!pending) return;
    if ('error' in reply) pending.reject(new CodecError(`JPEG-LS encoder: ${reply.error}`));
    else
      pending.resolve(
        Buffer.from(reply.encoded.buffer, reply.encoded.byteOffset, reply.encoded.byteLength),
      );
    if (waiting.size === 0) {
      w.unref(); // idle: it does not keep the process alive
      idle();
    }
  });
  const fail = (err: Error): void => {
    if (worker === w) worker = undefined;
    for (const [id, p] of waiting) {
      waiting.delete(id);
      p.reject(new CodecError(`JPEG-LS encoder stopped: ${err.message}`));
    }
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`exit ${code}`)));
  w.unref();
  return w;
}

function idle(): void {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    const w = worker;
    worker = undefined;
    if (waiting.size === 0) void w?.terminate();
  }, IDLE_MS);
  idleTimer.unref();
}

/**
 * One frame's samples (little endian, as in native Pixel Data) to a JPEG-LS bitstream. The
 * frame's buffer is moved to the encoder's thread: the caller does not use it afterwards.
 */
export function encodeJpegLs(pixels: Buffer, info: FrameInfo): Promise<Buffer> {
  clearTimeout(idleTimer);
  worker ??= start();
  worker.ref(); // a frame in flight keeps the process alive until it is encoded
  const id = nextId++;
  // Moved to the worker, not copied, when the frame owns its memory (readExactly's do);
  // a view into a shared buffer (Node's pool) is copied first, as moving would take it
  // from its other users.
  const owned =
    pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength
      ? new Uint8Array(pixels.buffer, 0, pixels.byteLength)
      : new Uint8Array(pixels);
  const rq: EncodeRequest = { id, pixels: owned, ...info };
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker!.postMessage(rq, [owned.buffer as ArrayBuffer]);
  });
}
