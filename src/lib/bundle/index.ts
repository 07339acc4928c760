/** Bundles: the expert's notebook and wheels, signed and encrypted for one owner (docs/BUNDLE.md). */
export {
  sealBundle,
  openBundle,
  streamToBlob,
  NAMESPACE,
  type SealInput,
  type OpenedBundle,
  type PreparedBundle,
  type OpenOptions,
  type LaneOptions,
  type PrepareOptions,
  type BundleInput,
  type NamedBytes,
} from './seal.ts';
export {
  parseManifest,
  serializeManifest,
  compareVersions,
  FORMAT,
  FORMAT_VERSION,
  type Manifest,
  type FileRef,
} from './manifest.ts';
export {
  readDeclarations,
  parseInference,
  parseLabel,
  DeclarationError,
  type DeclarationField,
  type DeclarationsInput,
} from './declare.ts';
export { decideImport, type ImportDecision, type KnownVersion } from './versions.ts';
export { BundleError, type BundleErrorCode } from './errors.ts';
export {
  storeBundle,
  listBundles,
  getBundle,
  deleteBundleVersion,
  deleteRoomBundles,
  openStoredBundle,
  legacyPinnedExpert,
  forgetLegacyPinnedExpert,
  BUNDLES_DB,
  type StoredBundle,
  type StoreResult,
} from './store.ts';
