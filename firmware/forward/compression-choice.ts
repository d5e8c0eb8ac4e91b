// Whether an instance goes to a destination compressed (the node's "compress"), as that
// destination has answered so far. An instance it refused compressed, or that the codec
// failed on, goes as it is from then on. A destination that refused one for its transfer
// syntax (STOW-RS Failure Reason 0xC122, HTTP 415) takes nothing compressed: every later
// instance goes as it is at once, not compressed first and then again (issue 27), until
// the node is reconfigured (another server, or a new mind about compression) or the box
// restarts; then compression is tried again.
import type { NodeConfig } from '../config/config';
import { log } from '../log';
import type { InstanceVerdict } from './transport';

export class CompressionChoice {
  /** SOP Instance UIDs to send as they are. */
  private readonly asTheyAre = new Set<string>();
  /** Why the destination is sent nothing compressed, once it refused a compressed syntax. */
  private refusedWhy: string | null = null;

  /** Whether to plan compression for this instance. */
  wanted(node: NodeConfig, sopInstanceUid: string): boolean {
    return !!node.compress && this.refusedWhy === null && !this.asTheyAre.has(sopInstanceUid);
  }

  /** The codec failed on these: they go as they are. */
  codecFailed(sopInstanceUids: Iterable<string>): void {
    for (const sop of sopInstanceUids) this.asTheyAre.add(sop);
  }

  /** The destination refused this instance compressed: it goes as it is; for its syntax, all do. */
  refused(
    dest: string,
    sopInstanceUid: string,
    verdict: Extract<InstanceVerdict, { kind: 'failed' }>,
  ): void {
    log.warn('refused compressed: sending it as it is', {
      dest,
      sop: sopInstanceUid,
      reason: verdict.reason,
    });
    this.asTheyAre.add(sopInstanceUid);
    if (!verdict.syntaxRefused || this.refusedWhy !== null) return;
    this.refusedWhy = verdict.reason;
    log.warn('compression refused: the next go as they are until the node is reconfigured', {
      dest,
      reason: verdict.reason,
    });
  }

  /** A new configuration of the node: a refusal of compression is forgotten if it changed. */
  reconfigured(before: NodeConfig, node: NodeConfig): void {
    if (this.refusedWhy === null || JSON.stringify(before) === JSON.stringify(node)) return;
    if (node.compress)
      log.info('compression to be tried again: the node was reconfigured', {
        dest: node.name,
        refusedBefore: this.refusedWhy,
      });
    this.refusedWhy = null;
  }
}
