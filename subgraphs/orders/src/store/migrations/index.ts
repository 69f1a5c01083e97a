import { OrdersInit1732147203000 } from './1732147203000-orders-init';
import { OrdersItemPosition1732147403000 } from './1732147403000-orders-item-position';

export const migrations = [OrdersInit1732147203000, OrdersItemPosition1732147403000];
