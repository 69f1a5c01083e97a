import type { RequestContext } from '@tiergraph/runtime';
import type { OrdersService } from './domain/orders-service';

export interface OrdersContext extends RequestContext {
  orders: OrdersService;
}
