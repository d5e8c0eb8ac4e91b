// The JPEG-LS encoder's thread: CharLS (the reference implementation, built to
// WebAssembly by @cornerstonejs/codec-charls) encodes one frame per message, away from
// the event loop. Lossless only: NEAR = 0.
import { parentPort } from 'node:worker_threads';

export interface EncodeRequest {
  readonly id: number;
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly bitsPerSample: number;
  readonly componentCount: number;
}

export type EncodeReply =
  | { readonly id: number; readonly encoded: Uint8Array }
  | { readonly id: number; readonly error: string };

interface CharlsEncoder {
  getDecodedBuffer(info: {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
  }): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  setNearLossless(near: number): void;
  setInterleaveMode(mode: number): void;
  encode(): void;
  delete(): void;
}

interface Charls {
  JpegLSEncoder: new () => CharlsEncoder;
}

/* eslint-disable-next-line @typescript-eslint/no-require-imports */
const factory = require('@cornerstonejs/codec-charls/wasmjs') as () => Promise<Charls>;
const charls = factory();

parentPort?.on('message', (rq: EncodeRequest) => {
  void charls.then(
    (c) => {
      const encoder = new c.JpegLSEncoder();
      try {
        encoder
          .getDecodedBuffer({
            width: rq.width,
            height: rq.height,
            bitsPerSample: rq.bitsPerSample,
            componentCount: rq.componentCount,
          })
          .set(rq.pixels);
        encoder.setNearLossless(0);
        // Colour by pixel (PS3.5 A.4.3: the sample-interleaved mode for RGB).
        if (rq.componentCount > 1) encoder.setInterleaveMode(2);
        encoder.encode();
        const encoded = encoder.getEncodedBuffer().slice(); // out of the WASM memory
        parentPort!.postMessage({ id: rq.id, encoded } satisfies EncodeReply, [encoded.buffer]);
      } catch (err) {
        parentPort!.postMessage({ id: rq.id, error: String(err) } satisfies EncodeReply);
      } finally {
        encoder.delete();
      }
    },
    (err: unknown) => parentPort!.postMessage({ id: rq.id, error: String(err) }),
  );
});
