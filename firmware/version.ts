// The firmware version, from package.json: one small module, so that `dicom-edge
// --version` does not load the appliance to say it.
/* eslint-disable-next-line @typescript-eslint/no-require-imports */
export const VERSION: string = (require('../../package.json') as { version: string }).version;
