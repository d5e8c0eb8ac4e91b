// DIMSE command set codec, PS3.7 §6.3 and §E.1: group 0000 elements, always Implicit VR
// Little Endian, preceded by Command Group Length (0000,0000). Pure functions over buffers.
import { CommandDecodeError } from '../errors';
import { Tag } from '../registry/tags';
import { NO_DATA_SET } from './command-field';

export interface CommandSet {
  commandField: number;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  affectedSopClassUid?: string;
  requestedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  requestedSopInstanceUid?: string;
  priority?: number;
  /** True when a data set follows the command (Command Data Set Type != 0101H). */
  hasDataSet: boolean;
  status?: number;
  offendingElement?: number[];
  errorComment?: string;
  errorId?: number;
  moveDestination?: string;
  moveOriginatorAeTitle?: string;
  moveOriginatorMessageId?: number;
  eventTypeId?: number;
  actionTypeId?: number;
  attributeIdentifierList?: number[];
  remainingSubOperations?: number;
  completedSubOperations?: number;
  failedSubOperations?: number;
  warningSubOperations?: number;
}

type Vr = 'UI' | 'US' | 'UL' | 'AE' | 'LO' | 'AT';
type Key = Exclude<keyof CommandSet, 'hasDataSet'>;

/** The command elements of PS3.7 Table E.1-1, in tag order. */
const ELEMENTS: ReadonlyArray<readonly [tag: number, key: Key, vr: Vr]> = [
  [Tag.AffectedSopClassUid, 'affectedSopClassUid', 'UI'],
  [Tag.RequestedSopClassUid, 'requestedSopClassUid', 'UI'],
  [Tag.CommandField, 'commandField', 'US'],
  [Tag.MessageId, 'messageId', 'US'],
  [Tag.MessageIdBeingRespondedTo, 'messageIdBeingRespondedTo', 'US'],
  [Tag.MoveDestination, 'moveDestination', 'AE'],
  [Tag.Priority, 'priority', 'US'],
  // (0000,0800) Command Data Set Type is handled apart: it maps to hasDataSet.
  [Tag.Status, 'status', 'US'],
  [Tag.OffendingElement, 'offendingElement', 'AT'],
  [Tag.ErrorComment, 'errorComment', 'LO'],
  [Tag.ErrorId, 'errorId', 'US'],
  [Tag.AffectedSopInstanceUid, 'affectedSopInstanceUid', 'UI'],
  [Tag.RequestedSopInstanceUid, 'requestedSopInstanceUid', 'UI'],
  [Tag.EventTypeId, 'eventTypeId', 'US'],
  [Tag.AttributeIdentifierList, 'attributeIdentifierList', 'AT'],
  [Tag.ActionTypeId, 'actionTypeId', 'US'],
  [Tag.NumberOfRemainingSuboperations, 'remainingSubOperations', 'US'],
  [Tag.NumberOfCompletedSuboperations, 'completedSubOperations', 'US'],
  [Tag.NumberOfFailedSuboperations, 'failedSubOperations', 'US'],
  [Tag.NumberOfWarningSuboperations, 'warningSubOperations', 'US'],
  [Tag.MoveOriginatorApplicationEntityTitle, 'moveOriginatorAeTitle', 'AE'],
  [Tag.MoveOriginatorMessageId, 'moveOriginatorMessageId', 'US'],
];
const BY_TAG = new Map(ELEMENTS.map((e) => [e[0], e] as const));

function element(tag: number, value: Buffer): Buffer {
  const head = Buffer.allocUnsafe(8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}

function encodeValue(vr: Vr, value: unknown): Buffer {
  switch (vr) {
    case 'US': {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(value as number);
      return b;
    }
    case 'UL': {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(value as number);
      return b;
    }
    case 'AT': {
      const tags = value as number[];
      const b = Buffer.alloc(tags.length * 4);
      tags.forEach((t, i) => {
        b.writeUInt16LE(t >>> 16, i * 4);
        b.writeUInt16LE(t & 0xffff, i * 4 + 2);
      });
      return b;
    }
    case 'UI': {
      // UI values are padded to even length with a NUL (PS3.5 §6.2).
      const s = value as string;
      return Buffer.from(s.length % 2 ? `${s}\0` : s, 'latin1');
    }
    case 'AE':
    case 'LO': {
      const s = value as string;
      return Buffer.from(s.length % 2 ? `${s} ` : s, 'latin1');
    }
  }
}

export function encodeCommandSet(cmd: CommandSet): Buffer {
  const elements: Array<[number, Buffer]> = [
    [Tag.CommandDataSetType, encodeValue('US', cmd.hasDataSet ? 0x0000 : NO_DATA_SET)],
  ];
  for (const [tag, key, vr] of ELEMENTS) {
    const value = cmd[key];
    if (value !== undefined) elements.push([tag, encodeValue(vr, value)]);
  }
  // Elements in ascending tag order (PS3.5 §7.1).
  elements.sort((a, b) => a[0] - b[0]);
  const body = Buffer.concat(elements.map(([tag, value]) => element(tag, value)));
  return Buffer.concat([element(Tag.CommandGroupLength, encodeValue('UL', body.length)), body]);
}

/** Decodes a complete command set. Elements outside Table E.1-1 are ignored. */
export function decodeCommandSet(buf: Buffer): CommandSet {
  const out: Partial<Record<Key, unknown>> & { hasDataSet?: boolean } = {};
  let offset = 0;
  while (offset < buf.length) {
    if (offset + 8 > buf.length)
      throw new CommandDecodeError(`command set truncated at byte ${offset}`);
    const group = buf.readUInt16LE(offset);
    const elem = buf.readUInt16LE(offset + 2);
    const length = buf.readUInt32LE(offset + 4);
    offset += 8;
    if (group !== 0x0000)
      throw new CommandDecodeError(
        `element (${hex4(group)},${hex4(elem)}) outside group 0000 in a command set`,
      );
    if (length > buf.length - offset) {
      throw new CommandDecodeError(
        `command element (0000,${hex4(elem)}) length ${length} overruns the command set`,
      );
    }
    const value = buf.subarray(offset, offset + length);
    offset += length;
    const tag = elem;
    if (tag === Tag.CommandDataSetType) {
      out.hasDataSet = readUs(value, tag) !== NO_DATA_SET;
      continue;
    }
    const def = BY_TAG.get(tag);
    if (!def) continue;
    const [, key, vr] = def;
    switch (vr) {
      case 'US':
      case 'UL':
        out[key] = readUs(value, tag);
        break;
      case 'AT': {
        if (value.length % 4)
          throw new CommandDecodeError(`(0000,${hex4(tag)}) AT value length ${value.length}`);
        const tags: number[] = [];
        for (let i = 0; i < value.length; i += 4) {
          tags.push(((value.readUInt16LE(i) << 16) | value.readUInt16LE(i + 2)) >>> 0);
        }
        out[key] = tags;
        break;
      }
      case 'UI':
        out[key] = value.toString('latin1').replace(/[\0 ]+$/, '');
        break;
      case 'AE':
      case 'LO':
        out[key] = value
          .toString('latin1')
          .replace(/[\0 ]+$/, '')
          .replace(/^ +/, '');
        break;
    }
  }
  if (typeof out.commandField !== 'number')
    throw new CommandDecodeError('command set has no Command Field (0000,0100)');
  if (out.hasDataSet === undefined)
    throw new CommandDecodeError('command set has no Command Data Set Type (0000,0800)');
  return out as CommandSet;
}

function readUs(value: Buffer, tag: number): number {
  if (value.length !== 2)
    throw new CommandDecodeError(
      `(0000,${hex4(tag)}) US value must be 2 bytes, got ${value.length}`,
    );
  return value.readUInt16LE(0);
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0').toUpperCase();
}
