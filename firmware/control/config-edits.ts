// Edits a configuration document the way an operator thinks of them ("set port 104",
// "add node pacs", "forward off for viewer") and turns each into the top-level keys of a
// `config-set` request. Pure: the box validates the result as a whole and refuses it with
// the key named, so these only shape the request, they do not judge it.
import { ConfigError, UnknownNodeError } from '../config/config';
import type { ConfigDocument } from '../config/config-file';

export type ConfigSet = Record<string, unknown>;

/** "port" or "forwarding.idleSeconds" (one level of nesting, into an object key). */
export function setKey(doc: ConfigDocument, dotted: string, value: unknown): ConfigSet {
  const [top, sub, ...rest] = dotted.split('.');
  if (!top || rest.length > 0)
    throw new ConfigError(
      dotted,
      'is not a setting name (KEY or SECTION.KEY, e.g. cache.keepDays)',
    );
  if (sub === undefined) return { [top]: value };
  const current = doc[top];
  const object =
    typeof current === 'object' && current !== null && !Array.isArray(current)
      ? (current as Record<string, unknown>)
      : {};
  return { [top]: { ...object, [sub]: value } };
}

/** A command-line value: JSON when it parses as JSON (104, true, {...}), else the text. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A node's setting from text: an AE title, host or name stays text even if it looks numeric. */
export function parseNodeValue(key: string, text: string): unknown {
  return key === 'ae' || key === 'host' || key === 'name' ? text : parseValue(text);
}

function nodesOf(doc: ConfigDocument): Record<string, unknown>[] {
  return Array.isArray(doc.nodes) ? (doc.nodes as Record<string, unknown>[]) : [];
}

/** Adds a node, or replaces the one with the same name. */
export function putNode(doc: ConfigDocument, node: Record<string, unknown>): ConfigSet {
  const nodes = nodesOf(doc);
  const at = nodes.findIndex((n) => n.name === node.name);
  return { nodes: at < 0 ? [...nodes, node] : nodes.map((n, i) => (i === at ? node : n)) };
}

/** Adds a node after the others; a name already in use is the box's to refuse, as any key. */
export function addNode(doc: ConfigDocument, node: Record<string, unknown>): ConfigSet {
  return { nodes: [...nodesOf(doc), node] };
}

/** Changes some fields of an existing node (its name included). */
export function patchNode(
  doc: ConfigDocument,
  name: string,
  patch: Record<string, unknown>,
): ConfigSet {
  const nodes = nodesOf(doc);
  if (!nodes.some((n) => n.name === name)) throw new UnknownNodeError(name, nodes);
  return { nodes: nodes.map((n) => (n.name === name ? { ...n, ...patch } : n)) };
}

export function removeNode(doc: ConfigDocument, name: string): ConfigSet {
  const nodes = nodesOf(doc);
  if (!nodes.some((n) => n.name === name)) throw new UnknownNodeError(name, nodes);
  return { nodes: nodes.filter((n) => n.name !== name) };
}
