// DIMSE command sets (PS3.7 §9.3, Annex E): group 0000 in Implicit VR Little Endian.
import { strict as assert } from 'node:assert';
import { CommandField, commandName } from '../../firmware/dicom/dimse/command-field';
import { decodeCommandSet, encodeCommandSet } from '../../firmware/dicom/dimse/command-set';
import { statusCategory } from '../../firmware/dicom/dimse/status';
import { CommandDecodeError } from '../../firmware/dicom/errors';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// A C-ECHO-RQ as DCMTK echoscu sends it (captured): group length, SOP class, field, ID, data set type.
const ECHO_RQ = hex(`
00000000 04000000 38000000
00000200 12000000 312e322e3834302e31303030382e312e3100
00000001 02000000 3000
00001001 02000000 0100
00000008 02000000 0101`);

describe('DIMSE command set codec', () => {
  it('decodes a C-ECHO-RQ byte vector', () => {
    const cmd = decodeCommandSet(ECHO_RQ);
    assert.equal(cmd.commandField, CommandField.CEchoRq);
    assert.equal(cmd.affectedSopClassUid, '1.2.840.10008.1.1');
    assert.equal(cmd.messageId, 1);
    assert.equal(cmd.hasDataSet, false);
  });

  it('encodes the same C-ECHO-RQ bytes, group length included', () => {
    const encoded = encodeCommandSet({
      commandField: CommandField.CEchoRq,
      affectedSopClassUid: '1.2.840.10008.1.1',
      messageId: 1,
      hasDataSet: false,
    });
    assert.deepEqual(encoded, ECHO_RQ);
  });

  it('round-trips a C-MOVE-RSP with counts, an error comment and an offending element list', () => {
    const rsp = {
      commandField: CommandField.CMoveRsp,
      messageIdBeingRespondedTo: 7,
      affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.2',
      status: 0xb000,
      remainingSubOperations: 0,
      completedSubOperations: 10,
      failedSubOperations: 2,
      warningSubOperations: 1,
      errorComment: 'two failed',
      offendingElement: [0x00100010, 0x0020000d],
      hasDataSet: true,
    };
    assert.deepEqual(decodeCommandSet(encodeCommandSet(rsp)), rsp);
  });

  it('names commands and classifies statuses per PS3.7 Annex C', () => {
    assert.equal(commandName(CommandField.CStoreRsp), 'C-STORE-RSP');
    assert.equal(statusCategory(0x0000), 'success');
    assert.equal(statusCategory(0xff01), 'pending');
    assert.equal(statusCategory(0xfe00), 'cancel');
    assert.equal(statusCategory(0xb007), 'warning');
    assert.equal(statusCategory(0xa700), 'failure');
    assert.equal(statusCategory(0xc123), 'failure');
  });

  describe('bad input', () => {
    it('rejects every truncation with CommandDecodeError', () => {
      for (let n = 0; n < ECHO_RQ.length; n++) {
        assert.throws(
          () => decodeCommandSet(ECHO_RQ.subarray(0, n)),
          CommandDecodeError,
          `cut at ${n}`,
        );
      }
    });
    it('rejects an element length that overruns the command (oversized)', () => {
      const b = Buffer.from(ECHO_RQ);
      b.writeUInt32LE(0x7fffffff, 16);
      assert.throws(() => decodeCommandSet(b), CommandDecodeError);
    });
    it('rejects elements outside group 0000 and garbage', () => {
      assert.throws(() => decodeCommandSet(hex('08001000 02000000 0100')), CommandDecodeError);
      assert.throws(
        () => decodeCommandSet(Buffer.from('not a command set at all')),
        CommandDecodeError,
      );
    });
  });
});
