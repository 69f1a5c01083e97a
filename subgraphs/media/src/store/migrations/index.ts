import { MediaInit1732147204000 } from './1732147204000-media-init';
import { MediaVariants1732147405000 } from './1732147405000-media-variants';

export const migrations = [MediaInit1732147204000, MediaVariants1732147405000];
