import type { RequestContext, SubgraphDefinition, SubgraphName } from '@tiergraph/runtime';
import { billingSubgraph } from '@tiergraph/billing';
import { catalogSubgraph } from '@tiergraph/catalog';
import { mediaSubgraph } from '@tiergraph/media';
import { monitoringSubgraph } from '@tiergraph/monitoring';
import { ordersSubgraph } from '@tiergraph/orders';
import { tenancySubgraph } from '@tiergraph/tenancy';

/** Every subgraph, in the order of the contract's ports. */
export const subgraphs: Record<SubgraphName, SubgraphDefinition<RequestContext>> = {
  billing: billingSubgraph as unknown as SubgraphDefinition<RequestContext>,
  tenancy: tenancySubgraph as unknown as SubgraphDefinition<RequestContext>,
  catalog: catalogSubgraph as unknown as SubgraphDefinition<RequestContext>,
  orders: ordersSubgraph as unknown as SubgraphDefinition<RequestContext>,
  media: mediaSubgraph as unknown as SubgraphDefinition<RequestContext>,
  monitoring: monitoringSubgraph as unknown as SubgraphDefinition<RequestContext>,
};
