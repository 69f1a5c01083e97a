import type { RequestContext } from '@tiergraph/runtime';
import type { OrdersService } from './domain/orders-service';
import type { OrdersPlatformFiguresService } from './platform-figures/platform-figures-service';

export interface OrdersContext extends RequestContext {
  orders: OrdersService;
  platformFigures: OrdersPlatformFiguresService;
}
