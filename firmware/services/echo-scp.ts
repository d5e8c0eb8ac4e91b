// Verification SOP Class as SCP (PS3.4 Annex A): a C-ECHO-RQ gets Success.
import { CommandField } from '../dicom/dimse/command-field';
import { Status } from '../dicom/dimse/status';
import { respond, type ServiceHandler } from './service';

export const cEchoScp: ServiceHandler = async (message, ctx) => {
  await respond(ctx, message, {
    commandField: CommandField.CEchoRsp,
    affectedSopClassUid: message.command.affectedSopClassUid ?? message.context.abstractSyntax,
    status: Status.Success,
  });
};
