import type { RequestContext } from '@tiergraph/runtime';
import type { MediaService } from './domain/media-service';
import type { MediaPlatformFiguresService } from './platform-figures/platform-figures-service';

export interface MediaContext extends RequestContext {
  media: MediaService;
  platformFigures: MediaPlatformFiguresService;
}
