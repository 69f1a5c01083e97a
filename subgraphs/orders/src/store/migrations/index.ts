import { OrdersInit1732147203000 } from './1732147203000-orders-init';
import { OrdersItemPosition1732147403000 } from './1732147403000-orders-item-position';
import { OrdersOrderCounts1764590000003 } from './1764590000003-orders-order-counts';
import { OrdersResponseTags1764600000003 } from './1764600000003-orders-response-tags';
export const migrations = [OrdersInit1732147203000, OrdersItemPosition1732147403000, OrdersOrderCounts1764590000003, OrdersResponseTags1764600000003];
