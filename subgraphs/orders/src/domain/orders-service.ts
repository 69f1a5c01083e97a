import { canReadStore, ForbiddenError, isUuid, NotFoundError, type Caller } from '@tiergraph/runtime';
import type { OrderEntity } from '../store/entities';
import type { OrdersLoaders } from '../store/orders-store';

/** Orders' rules for one request: who may read which order. */
export class OrdersService {
  constructor(
    private readonly loaders: OrdersLoaders,
    private readonly caller: Caller,
  ) {}

  /** An order is visible to whoever may read its store; unknown (or non-uuid) ids are NOT_FOUND. */
  async order(id: string): Promise<OrderEntity> {
    const order = isUuid(id) ? await this.loaders.order.load(id) : null;
    if (!order) throw new NotFoundError('Order', id);
    if (!canReadStore(this.caller, { id: order.storeId, merchantId: order.merchantId })) {
      throw new ForbiddenError('this order belongs to another tenant');
    }
    return order;
  }

  // ───────────── federation references: the same rules as any read ─────────────

  referencedOrder(id: string): Promise<OrderEntity> {
    return this.order(id);
  }
}
