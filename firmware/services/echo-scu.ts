// Verification as SCU: C-ECHO (PS3.4 Annex A, PS3.7 §9.1.5).
import { CommandField } from '../dicom/dimse/command-field';
import { DimseRequestor } from '../dicom/dimse/dimse-requestor';
import { PresentationContextResult } from '../dicom/pdu';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
} from '../dicom/registry/transfer-syntaxes';
import { VERIFICATION_SOP_CLASS } from '../dicom/registry/uid';

import { openAssociation, type PeerAddress } from './open-association';

/** How long a C-ECHO-RSP may take once the association is open, by default. */
const RESPONSE_TIMEOUT_MS = 30_000;

/**
 * Opens an association, sends one C-ECHO-RQ, releases. Resolves with the status. A peer
 * that takes the association and never answers is aborted after `timeoutMs`: a health
 * check (the forwarder's probe above all) must end.
 */
export async function echo(peer: PeerAddress, timeoutMs = RESPONSE_TIMEOUT_MS): Promise<number> {
  const association = await openAssociation(peer, [
    {
      id: 1,
      abstractSyntax: VERIFICATION_SOP_CLASS,
      transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN],
    },
  ]);
  let silent = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const accepted = association.info.ac.presentationContexts.find((pc) => pc.id === 1);
    if (accepted?.result !== PresentationContextResult.Acceptance) {
      throw new Error('the peer did not accept the Verification SOP Class');
    }
    const requestor = new DimseRequestor(association);
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        silent = true;
        reject(new Error(`no C-ECHO-RSP within ${timeoutMs / 1000} s`));
      }, timeoutMs);
    });
    const rsp = await Promise.race([
      requestor.request(1, {
        commandField: CommandField.CEchoRq,
        affectedSopClassUid: VERIFICATION_SOP_CLASS,
      }),
      silence,
    ]);
    return rsp.command.status ?? 0xffff;
  } finally {
    clearTimeout(timer);
    if (silent) association.abort();
    else await association.release().catch(() => association.abort());
  }
}
