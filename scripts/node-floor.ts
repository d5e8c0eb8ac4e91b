// `make bench`, issue 26: what Node.js itself costs to take instances off a socket and make
// them durable, with no DICOM at all. The receiver (run as its own process, so that its CPU
// time is its own) cuts one TCP stream into files, each sent behind its length in 4 bytes
// (the least framing a stream of files needs), writes each chunk as it
// arrives (async, as the box does), then renames the file into place, fsyncs it and answers
// one byte; the sender sends a file and waits for that byte before the next, as storescu
// waits for each C-STORE response. Against it, the box's CPU per MB and time per instance
// say how much is the box's own work and how much the runtime's.
//
//   node dist/scripts/node-floor.js receive DIR PORT   listens until killed
//   sendRaw(port, files)                               from the bench, a connection a call
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** Receives instances on each connection until the sender ends it. */
function receive(dir: string, port: number): void {
  const server = net.createServer({ noDelay: true }, (socket) => {
    let count = 0;
    let file: fs.FileHandle | null = null;
    let written = 0;
    let bytes = 0;
    let header = Buffer.alloc(0);
    let work = Promise.resolve();
    const next = async (chunk: Buffer): Promise<void> => {
      for (let at = 0; at < chunk.length;) {
        if (file === null) {
          const need = 4 - header.length;
          header = Buffer.concat([header, chunk.subarray(at, at + need)]);
          at += Math.min(need, chunk.length - at);
          if (header.length < 4) return;
          bytes = header.readUInt32BE(0);
          header = Buffer.alloc(0);
          file = await fs.open(path.join(dir, 'part'), 'w');
        }
        const take = Math.min(chunk.length - at, bytes - written);
        await file.write(chunk, at, take);
        at += take;
        written += take;
        if (written < bytes) continue;
        await fs.rename(path.join(dir, 'part'), path.join(dir, `${count++}.dcm`));
        await file.sync();
        await file.close();
        file = null;
        written = 0;
        socket.write(Buffer.of(0));
      }
    };
    socket.on('data', (chunk: Buffer) => {
      socket.pause();
      work = work.then(() => next(chunk)).then(() => void socket.resume());
    });
    socket.on('end', () => void work.then(() => socket.end()));
  });
  server.listen(port, '127.0.0.1');
}

/** Sends each file's bytes and waits for the receiver's one-byte answer before the next. */
export async function sendRaw(port: number, files: readonly string[]): Promise<number> {
  const contents = await Promise.all(files.map((f) => fs.readFile(f)));
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const started = process.hrtime.bigint();
  for (const content of contents) {
    const answered = new Promise((resolve) => socket.once('data', resolve));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(content.length);
    socket.write(length);
    socket.write(content);
    await answered;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  socket.end();
  return seconds;
}

if (require.main === module && process.argv[2] === 'receive') {
  receive(process.argv[3], Number(process.argv[4]));
}
