import { AppError } from '@tiergraph/runtime';

/** Catalog could not be asked about the products: the order fails closed, nothing is written. */
export class CatalogUnavailableError extends AppError {
  constructor(reason: string) {
    super(`catalog cannot be reached to check the products (${reason}); nothing was ordered`, 'CATALOG_UNAVAILABLE');
  }
}
