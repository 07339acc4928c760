/** Zip archives: reading hostile ones with every inconsistency refused, and writing stored ones. */
export { listZip, readZip, findEocd, ZipError, ZIP_LIMITS, type ZipErrorCode, type ZipMember } from './read.ts';
export { zipPieces, crc32, type ZipEntry } from './write.ts';
