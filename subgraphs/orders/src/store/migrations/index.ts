import { OrdersInit1732147203000 } from './1732147203000-orders-init';

export const migrations = [OrdersInit1732147203000];
