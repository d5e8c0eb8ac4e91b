// The upper layer's actions (PS3.8 Tables 9-6 to 9-9), each run alone over a recording
// upper layer: what it sends, which timer it starts, what it tells the local user, and the
// state it leads to — within the states state-machine.ts allows.
import { strict as assert } from 'node:assert';
import { associateRq } from '../../firmware/dicom/acse';
import { AssociationAbortedError } from '../../firmware/dicom/errors';
import { AbortSource, decodePdu, PduType, type AAssociateRq } from '../../firmware/dicom/pdu';
import { ACTIONS, type Action, type State } from '../../firmware/dicom/state-machine';
import {
  ACTION_FUNCTIONS,
  type Abort,
  type CloseReason,
  type EventArg,
  type Indication,
  type OutgoingPdv,
  type UpperLayer,
} from '../../firmware/dicom/ul/actions';

class RecordingUpperLayer implements UpperLayer {
  readonly sent: number[] = [];
  readonly pdvs: OutgoingPdv[] = [];
  readonly indications: Indication[] = [];
  artim: 'stopped' | 'started' | 'short' = 'stopped';
  reason?: CloseReason;
  closed = false;
  constructor(
    readonly role: 'acceptor' | 'requestor',
    readonly state: State,
    private abort?: Abort,
  ) {}
  connect(): void {}
  send(pdu: Buffer): void {
    this.sent.push(pdu[0]!);
  }
  sendPdv(pdv: OutgoingPdv): void {
    this.pdvs.push(pdv);
  }
  associateRq(): AAssociateRq {
    return rq(1);
  }
  startArtim(short?: boolean): void {
    this.artim = short ? 'short' : 'started';
  }
  stopArtim(): void {
    this.artim = 'stopped';
  }
  stopReading(): void {}
  takeAbort(): Abort | undefined {
    const a = this.abort;
    this.abort = undefined;
    return a;
  }
  ended(reason: CloseReason): void {
    this.reason ??= reason;
  }
  closeTransport(fallback: CloseReason): void {
    this.reason ??= fallback;
    this.closed = true;
  }
  indicate(i: Indication): void {
    this.indications.push(i);
  }
}

function rq(protocolVersion: number): AAssociateRq {
  const proposal = { callingAeTitle: 'MOD', calledAeTitle: 'EDGE', presentationContexts: [] };
  return { ...associateRq(proposal, 16384), protocolVersion };
}

function perform(action: Action, ul: RecordingUpperLayer, arg?: EventArg): State {
  const next = ACTION_FUNCTIONS[action](ul, arg);
  assert.ok(ACTIONS[action].next.includes(next), `${action} may lead to ${next}`);
  return next;
}

describe('upper layer actions (PS3.8 §9.2.2), one function each', () => {
  it('has one function for each of the 28 actions', () =>
    assert.deepEqual(Object.keys(ACTION_FUNCTIONS).sort(), Object.keys(ACTIONS).sort()));

  it('AE-6 refuses a protocol version without bit 0 itself: A-ASSOCIATE-RJ, ARTIM, Sta13', () => {
    const ul = new RecordingUpperLayer('acceptor', 'Sta2');
    assert.equal(perform('AE-6', ul, rq(2)), 'Sta13');
    assert.deepEqual(ul.sent, [PduType.AAssociateRj]);
    assert.equal(ul.artim, 'started');
    assert.deepEqual(ul.indications, []);
  });

  it('AE-6 indicates an acceptable A-ASSOCIATE-RQ to the local user: Sta3', () => {
    const ul = new RecordingUpperLayer('acceptor', 'Sta2');
    assert.equal(perform('AE-6', ul, rq(1)), 'Sta3');
    assert.deepEqual(ul.sent, []);
    assert.equal(ul.indications[0]?.kind, 'associate');
  });

  it('DT-1 and AR-7 send the P-DATA request they are given (Evt9 goes through the table)', () => {
    const ul = new RecordingUpperLayer('requestor', 'Sta6');
    const pdv = { contextId: 1, isCommand: true, isLast: true, data: Buffer.alloc(2) };
    assert.equal(perform('DT-1', ul, pdv), 'Sta6');
    assert.equal(perform('AR-7', ul, pdv), 'Sta8');
    assert.deepEqual(ul.pdvs, [pdv, pdv]);
  });

  it('AA-1 after a local A-ABORT request sends it and starts the short ARTIM, so the transport goes soon', () => {
    const ul = new RecordingUpperLayer('requestor', 'Sta6', {
      source: AbortSource.ServiceUser,
      reason: 0,
    });
    assert.equal(perform('AA-1', ul), 'Sta13');
    assert.deepEqual(ul.sent, [PduType.AAbort]);
    assert.equal(ul.artim, 'short');
    assert.equal(ul.reason?.kind, 'aborted');
  });

  it('AA-1 answering a PDU before any A-ASSOCIATE-RQ is the provider’s abort, with the full ARTIM', () => {
    const ul = new RecordingUpperLayer('acceptor', 'Sta2');
    perform('AA-1', ul);
    assert.equal(ul.artim, 'started');
    const error = ul.reason?.kind === 'aborted' ? ul.reason.error : undefined;
    assert.ok(error instanceof AssociationAbortedError);
    assert.equal(error.source, AbortSource.ServiceProvider);
  });

  it('AR-8 in a release collision: the requestor answers at once (Sta9), the acceptor waits (Sta10)', () => {
    const requestor = new RecordingUpperLayer('requestor', 'Sta7');
    assert.equal(perform('AR-8', requestor), 'Sta9');
    assert.equal(requestor.indications[0]?.kind, 'release-collision');
    const acceptor = new RecordingUpperLayer('acceptor', 'Sta7');
    assert.equal(perform('AR-8', acceptor), 'Sta10');
  });

  it('AE-4 closes the transport with the rejection the A-ASSOCIATE-RJ carries', () => {
    const ul = new RecordingUpperLayer('requestor', 'Sta5');
    const rj = decodePdu(PduType.AAssociateRj, Buffer.from([0, 1, 1, 7]));
    assert.equal(perform('AE-4', ul, rj), 'Sta1');
    assert.ok(ul.closed);
    assert.equal(ul.reason?.kind, 'rejected');
  });
});
