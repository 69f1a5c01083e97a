import type { RequestContext } from '@tiergraph/runtime';
import type { MediaService } from './domain/media-service';

export interface MediaContext extends RequestContext {
  media: MediaService;
}
