/** Pure-Python wheels, built without a Python toolchain. (The sandbox verifies and unpacks them.) */
export { buildWheel, readPyproject, wheelDistName, WheelError, type WheelSpec } from './build.ts';
