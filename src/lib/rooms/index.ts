/** The owner's room: its identity (room key and receipt-signing key) and the passphrase-protected backup. */
export { createRoom, restoreRoom, backupRoom, roomInfo, type RoomInfo } from './room.ts';
export {
  sealBackup,
  openBackup,
  isBackupFile,
  checkPassphrase,
  BackupError,
  BACKUP_FORMAT,
  BACKUP_VERSION,
  BACKUP_WORK_FACTOR,
  MIN_PASSPHRASE,
  type BackupErrorCode,
  type RoomBackup,
  type RoomIdentity,
  type OpenedRoom,
} from './backup.ts';
