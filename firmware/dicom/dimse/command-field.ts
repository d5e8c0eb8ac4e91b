// Command Field values, PS3.7 §9.3 and §10.3 (Table E.1-1).
export const CommandField = {
  CStoreRq: 0x0001,
  CStoreRsp: 0x8001,
  CGetRq: 0x0010,
  CGetRsp: 0x8010,
  CFindRq: 0x0020,
  CFindRsp: 0x8020,
  CMoveRq: 0x0021,
  CMoveRsp: 0x8021,
  CEchoRq: 0x0030,
  CEchoRsp: 0x8030,
  NEventReportRq: 0x0100,
  NEventReportRsp: 0x8100,
  NGetRq: 0x0110,
  NGetRsp: 0x8110,
  NSetRq: 0x0120,
  NSetRsp: 0x8120,
  NActionRq: 0x0130,
  NActionRsp: 0x8130,
  NCreateRq: 0x0140,
  NCreateRsp: 0x8140,
  NDeleteRq: 0x0150,
  NDeleteRsp: 0x8150,
  CCancelRq: 0x0fff,
} as const;

export function isResponse(commandField: number): boolean {
  return (commandField & 0x8000) !== 0;
}

export function commandName(commandField: number): string {
  for (const [name, value] of Object.entries(CommandField)) {
    if (value !== commandField) continue;
    // "NEventReportRsp" -> "N-EVENT-REPORT-RSP", "CCancelRq" -> "C-CANCEL-RQ"
    return name
      .replace(/^([CN])/, '$1-')
      .replace(/([a-z])([A-Z])/g, '$1-$2')
      .toUpperCase();
  }
  return `command 0x${commandField.toString(16).padStart(4, '0')}`;
}

/** Command Data Set Type (0000,0800): this value means "no data set"; any other, present. */
export const NO_DATA_SET = 0x0101;
