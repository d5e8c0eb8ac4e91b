// The Modality Worklist C-FIND as SCU (PS3.4 K.4.1, Modality Worklist Information Model -
// FIND), for the replication: each match is handed on as it arrives (the next waits for
// it, so a source answering faster than the index writes costs no more memory), enough
// matches end the query with a C-CANCEL (PS3.7 §9.3.2.3), and a source that goes silent
// for `silenceMs` is aborted rather than waited for. A match whose identifier does not
// parse is told apart from the source failing: the query goes on without it.
import type { EstablishedAssociation } from '../dicom/association';
import { parseDataset } from '../dicom/dataset/dataset-parser';
import type { Encoding } from '../dicom/dataset/dataset-scanner';
import { encodeDataset, type Element } from '../dicom/dataset/dataset-writer';
import { CommandField } from '../dicom/dimse/command-field';
import { DimseRequestor, type DimseResponse } from '../dicom/dimse/dimse-requestor';
import { DatasetParseError } from '../dicom/errors';
import { PresentationContextResult } from '../dicom/pdu';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  TRANSFER_SYNTAXES,
} from '../dicom/registry/transfer-syntaxes';
import { MODALITY_WORKLIST_FIND_SOP_CLASS } from '../dicom/registry/uid';
import { openAssociation, type PeerAddress } from '../services/open-association';

/** How long a source may go on answering after our C-CANCEL before the association is aborted. */
const CANCEL_GRACE_MS = 5000;

/** The source failed the query (refused, went silent, broke off); the reason says how. */
export class WorklistSourceError extends Error {
  override name = 'WorklistSourceError';
}

export interface MwlFindHandlers {
  /** Each match's identifier; a promise holds the next match back until it settles. */
  match(elements: Element[]): unknown;
  /** A match that does not parse (the query goes on). */
  malformed(reason: string): void;
  /** Asked after each match: true ends the query (C-CANCEL), what follows is ignored. */
  enough(): boolean;
}

export interface MwlFindResult {
  /** The final status: Success, or Cancel after `enough`. */
  readonly status: number;
  readonly errorComment?: string;
  /** The query was ended by `enough`. */
  readonly cancelled: boolean;
}

function encodingOf(association: EstablishedAssociation): Encoding {
  const ts = TRANSFER_SYNTAXES.get(association.info.contexts.get(1)!.transferSyntax)!;
  return { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
}

/**
 * One MWL C-FIND. Throws WorklistSourceError when the source cannot be associated with,
 * does not serve the Modality Worklist, goes silent, or aborts.
 */
export async function mwlFind(
  peer: PeerAddress,
  identifier: readonly Element[],
  handlers: MwlFindHandlers,
  silenceMs: number,
): Promise<MwlFindResult> {
  let association: EstablishedAssociation;
  try {
    association = await openAssociation(peer, [
      {
        id: 1,
        abstractSyntax: MODALITY_WORKLIST_FIND_SOP_CLASS,
        transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN],
      },
    ]);
  } catch (err) {
    throw new WorklistSourceError(`cannot associate: ${(err as Error).message}`);
  }
  const query = new RunningQuery(association, handlers, silenceMs);
  try {
    return await query.run(identifier);
  } finally {
    query.settle();
    if (association.state === 'Sta6') await association.release().catch(() => association.abort());
    else association.abort();
  }
}

/** One query on its association: the silence timer, the cancel, what the matches become. */
class RunningQuery {
  private readonly requestor: DimseRequestor;
  private silence?: NodeJS.Timeout;
  private cancelled = false;
  private grace?: NodeJS.Timeout;
  private silent = false;

  constructor(
    private readonly association: EstablishedAssociation,
    private readonly handlers: MwlFindHandlers,
    private readonly silenceMs: number,
  ) {
    this.requestor = new DimseRequestor(association);
  }

  async run(identifier: readonly Element[]): Promise<MwlFindResult> {
    const accepted = this.association.info.ac.presentationContexts.find((pc) => pc.id === 1);
    if (accepted?.result !== PresentationContextResult.Acceptance)
      throw new WorklistSourceError('it does not serve the Modality Worklist (context refused)');
    const enc = encodingOf(this.association);
    this.heard();
    let rsp: DimseResponse;
    try {
      rsp = await this.requestor.request(
        1,
        {
          commandField: CommandField.CFindRq,
          affectedSopClassUid: MODALITY_WORKLIST_FIND_SOP_CLASS,
          priority: 0,
        },
        encodeDataset(identifier, enc),
        (pending) => this.onPending(pending, enc),
      );
    } catch (err) {
      // Aborted by us after our C-CANCEL went unheeded: the matches taken stand.
      if (this.cancelled) return { status: 0xfe00, cancelled: true };
      if (this.silent)
        throw new WorklistSourceError(`no answer for ${Math.round(this.silenceMs / 1000)} s`);
      throw new WorklistSourceError(`the query broke off: ${(err as Error).message}`);
    }
    return {
      status: rsp.command.status ?? 0xffff,
      ...(rsp.command.errorComment ? { errorComment: rsp.command.errorComment } : {}),
      cancelled: this.cancelled,
    };
  }

  private async onPending(pending: DimseResponse, enc: Encoding): Promise<void> {
    this.heard();
    if (this.cancelled) return;
    if (pending.datasetError) {
      this.handlers.malformed(pending.datasetError);
      return;
    }
    let elements: Element[];
    try {
      elements = parseDataset(pending.dataset ?? Buffer.alloc(0), enc);
    } catch (err) {
      if (!(err instanceof DatasetParseError)) throw err;
      this.handlers.malformed(`does not parse: ${err.message}`);
      return;
    }
    await this.handlers.match(elements);
    if (this.handlers.enough()) await this.cancel(pending.command.messageIdBeingRespondedTo ?? 1);
  }

  /** C-CANCEL-RQ (PS3.7 §9.3.2.3); a source that answers on regardless is cut off. */
  private async cancel(messageId: number): Promise<void> {
    this.cancelled = true;
    this.grace = setTimeout(() => this.association.abort(), CANCEL_GRACE_MS);
    await this.requestor.channel.send(1, {
      commandField: CommandField.CCancelRq,
      messageIdBeingRespondedTo: messageId,
      hasDataSet: false,
    });
  }

  /** The source said something: the silence timer starts again. */
  private heard(): void {
    clearTimeout(this.silence);
    this.silence = setTimeout(() => {
      this.silent = true;
      this.association.abort();
    }, this.silenceMs);
  }

  settle(): void {
    clearTimeout(this.silence);
    clearTimeout(this.grace);
  }
}
