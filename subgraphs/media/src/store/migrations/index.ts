import { MediaInit1732147204000 } from './1732147204000-media-init';

export const migrations = [MediaInit1732147204000];
