import { ShepherdError } from '../../errors/shepherd-error.js';

/**
 * Largest preset file read: parsing blocks the event loop for as long as the file is big, and a preset is a few
 * keys and a userdata template that the cloud takes up to 64 KiB of anyway.
 */
export const MAX_PRESET_BYTES = 256 * 1024;

/**
 * `preset_load_1013` for a preset file of `size` bytes over MAX_PRESET_BYTES, else null. Stores check the
 * size before reading a file (the git store before judging a commit by its files), the compiler before
 * parsing what it was given.
 */
export function presetTooLarge(size: number, file: string): ShepherdError | null {
  if (size <= MAX_PRESET_BYTES) return null;
  return new ShepherdError('preset_load_1013', `${size} bytes; at most ${MAX_PRESET_BYTES}`, {
    at: { file, line: 1, col: 1 },
  });
}
