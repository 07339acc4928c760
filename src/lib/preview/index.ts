/** What the owner's page shows of outputs and columns: previews and profiles, capped, as data (never HTML). */
export { jsonTree, JSON_TREE_LIMITS, type JsonNode, type JsonKind, type JsonTreeLimits } from './json-tree.ts';
export { tableHead, TABLE_HEAD_LIMITS, type TableHead, type TableHeadLimits } from './table-head.ts';
export {
  previewOutput,
  describeType,
  metricCards,
  sha256Hex,
  PREVIEW_LIMITS,
  type OutputPreview,
  type MetricCard,
} from './output.ts';
export { profileColumn, type ColumnProfile } from './profile.ts';
