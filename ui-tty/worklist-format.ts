// Plain-text views of the worklist (firmware/worklist/) shared by `dicom-edge worklist`
// and the consoles: the copy's state and its items in schedule order, the instances whose
// patient differed from their item, a refresh's result. The one-line state (status, the
// dashboard) is format.ts's worklistSummary.
import type { WorklistReport } from '../firmware/control/commands';
import type { MismatchView, RefreshResult, WorklistStatus } from '../firmware/worklist/worklist';
import { worklistSummary } from './format';

/** `dicom-edge worklist`: the source, the copy's state and age, then its items. */
export function formatWorklistReport(r: WorklistReport): string {
  const w = r.status;
  if (!w) return 'no worklist source configured (a node with "worklistSource": true)\n';
  const head = [
    `source:   ${w.source} (${w.peer}), asked every ${w.intervalSeconds} s${w.replicating ? ', replicating now' : ''}`,
    `copy:     ${worklistSummary(w)}`,
    `taken:    ${w.lastSuccessAt ?? 'never'}${w.servedUntil ? `; served until ${w.servedUntil} (worklist.maxAgeSeconds ${w.maxAgeSeconds})` : ''}`,
    ...(w.failingSince ? [`failing:  since ${w.failingSince}: ${w.lastError ?? ''}`] : []),
    ...(w.mismatches > 0
      ? [
          `checks:   ${w.mismatches} instance(s) differ from their item (dicom-edge worklist mismatches)`,
        ]
      : []),
    '',
  ];
  if (r.items.length === 0) return [...head, '(no items)'].join('\n') + '\n';
  const header = [
    'DATE',
    'TIME',
    'STATION',
    'MOD',
    'ACCESSION',
    'PATIENT ID',
    'PATIENT',
    'PROCEDURE',
  ];
  const rows = r.items.map((i) => [
    i.date,
    i.time,
    i.station,
    i.modality,
    i.accessionNumber,
    i.patientId,
    i.patientName,
    i.procedure,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  const more = w.items > r.items.length ? [`... and ${w.items - r.items.length} more`] : [];
  return [...head, line(header), ...rows.map(line), ...more].join('\n') + '\n';
}

/** `dicom-edge worklist mismatches`: one block per instance, the most recent first. */
export function formatMismatches(list: readonly MismatchView[]): string {
  if (list.length === 0) return 'no instance differs from its worklist item\n';
  return (
    list
      .map((m) =>
        [
          `${m.receivedAt}  ${m.callingAe}  SOP ${m.sopInstanceUid}`,
          `  ${m.matchedBy === 'accession' ? `accession ${m.accessionNumber}` : `study ${m.studyInstanceUid}`}`,
          ...m.differences.map(
            (d) => `  ${d.attribute}: received "${d.received}", scheduled "${d.scheduled}"`,
          ),
          `  forwarded: ${m.coerced === null ? 'as received (the rule lists only)' : m.coerced.length > 0 ? `with the item's ${m.coerced.join(', ')}` : 'as received'}`,
          ...(m.note ? [`  note: ${m.note}`] : []),
        ].join('\n'),
      )
      .join('\n') + '\n'
  );
}

/** What `worklist refresh` did. */
export function formatRefresh(refresh: RefreshResult, status: WorklistStatus | null): string {
  const r = refresh.ok
    ? `replicated: ${refresh.replicated.items} items (${refresh.replicated.added} added, ${refresh.replicated.changed} changed, ${refresh.replicated.removed} removed${refresh.replicated.skipped ? `, ${refresh.replicated.skipped} skipped` : ''}) in ${refresh.replicated.ms} ms`
    : `not replicated: ${refresh.reason}`;
  return `${r}\n${status ? `copy: ${worklistSummary(status)}\n` : ''}`;
}
