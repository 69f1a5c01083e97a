import { corsMiddleware, type CorsSettings, type SubgraphDependencies } from '@tiergraph/runtime';
import express, { type Express } from 'express';

export interface MediaRouteDependencies extends SubgraphDependencies {
  cors: CorsSettings;
}

/**
 * Media's plain-HTTP routes on its own port, under /media: the file URLs (`GET /media/files/...`) and uploads
 * (`POST /media/upload`) of the contract. Browser frontends call them from their own origins, so everything on
 * this router is behind the same CORS rule as the gateway's /graphql; a route is added here and needs nothing else.
 */
export function mountMediaRoutes(app: Express, deps: MediaRouteDependencies): void {
  const router = express.Router();
  router.use(corsMiddleware(deps.cors));
  app.use('/media', router);
}
