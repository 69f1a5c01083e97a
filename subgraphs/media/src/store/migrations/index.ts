import { MediaInit1732147204000 } from './1732147204000-media-init';
import { MediaVariants1732147405000 } from './1732147405000-media-variants';
import { MediaStoredBytesCounts1764590000002 } from './1764590000002-media-stored-bytes-counts';
import { MediaResponseTags1764600000002 } from './1764600000002-media-response-tags';
export const migrations = [MediaInit1732147204000, MediaVariants1732147405000, MediaStoredBytesCounts1764590000002, MediaResponseTags1764600000002];
