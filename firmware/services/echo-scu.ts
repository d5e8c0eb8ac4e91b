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

/** Opens an association, sends one C-ECHO-RQ, releases. Resolves with the status. */
export async function echo(peer: PeerAddress): Promise<number> {
  const association = await openAssociation(peer, [
    {
      id: 1,
      abstractSyntax: VERIFICATION_SOP_CLASS,
      transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN],
    },
  ]);
  try {
    const accepted = association.info.ac.presentationContexts.find((pc) => pc.id === 1);
    if (accepted?.result !== PresentationContextResult.Acceptance) {
      throw new Error('the peer did not accept the Verification SOP Class');
    }
    const requestor = new DimseRequestor(association);
    const rsp = await requestor.request(1, {
      commandField: CommandField.CEchoRq,
      affectedSopClassUid: VERIFICATION_SOP_CLASS,
    });
    return rsp.command.status ?? 0xffff;
  } finally {
    await association.release().catch(() => association.abort());
  }
}
