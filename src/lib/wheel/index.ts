/** Pure-Python wheels: built without a Python toolchain, checked against their RECORD and unpacked for the sandbox. */
export { buildWheel, readPyproject, wheelDistName, WheelError, type WheelSpec } from './build.ts';
export { unpackWheel, prepareWheels, type UnpackedWheel } from './unpack.ts';
