/**
 * Class names of the hand-bone X-ray segmentation task, in the model's output-channel order (which is
 * also the row order of a submission CSV for one image).
 */

/** The 29 hand-bone classes: finger-1 … finger-19, then the eight carpals, then Radius and Ulna. */
export const HANDBONE_CLASSES: readonly string[] = Object.freeze([
  ...Array.from({ length: 19 }, (_, i) => `finger-${i + 1}`),
  'Trapezium',
  'Trapezoid',
  'Capitate',
  'Hamate',
  'Scaphoid',
  'Lunate',
  'Triquetrum',
  'Pisiform',
  'Radius',
  'Ulna',
]);

/** Class name → output-channel index (0-based), e.g. `HANDBONE_CLASS_INDEX.get('Radius') === 27`. */
export const HANDBONE_CLASS_INDEX: ReadonlyMap<string, number> = new Map(HANDBONE_CLASSES.map((c, i) => [c, i]));
