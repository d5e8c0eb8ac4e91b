// A deliberately rude peer: raw bytes over TCP, and whatever PDUs come back.
import * as net from 'node:net';
import {
  decodePdu,
  encodeAAssociateRq,
  PduType,
  type Pdu,
  type PresentationContextRq,
} from '../../firmware/dicom/pdu';
import { PduReader } from '../../firmware/dicom/pdu-reader';

const TERMINAL = new Set<number>([PduType.AAssociateRj, PduType.AReleaseRp, PduType.AAbort]);

export interface RawExchange {
  readonly pdus: Pdu[];
  /** True when the box closed the connection within the wait. */
  readonly closedByPeer: boolean;
}

/** Connects, writes each chunk in turn, then collects PDUs until the box closes or waitMs passes. */
export function rawExchange(
  port: number,
  chunks: readonly Buffer[],
  waitMs = 3000,
): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const reader = new PduReader({ maxPDataLength: 0, maxOtherLength: 1 << 20 });
    const pdus: Pdu[] = [];
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      for (const c of chunks) socket.write(c);
    });
    const finish = (closedByPeer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ pdus, closedByPeer });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d: Buffer) => {
      reader.push(d);
      for (let raw = reader.next(); raw; raw = reader.next()) {
        pdus.push(decodePdu(raw.type, raw.body));
        if (TERMINAL.has(raw.type)) return finish(false);
      }
    });
    socket.on('close', () => finish(true));
    socket.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') return finish(true);
      reject(err);
    });
  });
}

export function associateRq(contexts: readonly PresentationContextRq[], maxLength = 16384): Buffer {
  return encodeAAssociateRq({
    protocolVersion: 1,
    calledAeTitle: 'DICOM_EDGE',
    callingAeTitle: 'RUDE',
    applicationContextName: '1.2.840.10008.3.1.1.1',
    presentationContexts: contexts,
    userInformation: {
      maxLength,
      implementationClassUid: '1.2.3',
      roleSelections: [],
      extendedNegotiations: [],
      commonExtendedNegotiations: [],
    },
  });
}
