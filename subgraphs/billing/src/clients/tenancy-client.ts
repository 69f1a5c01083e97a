import { callSubgraph, isUuid, NotFoundError, type MerchantPlatform } from '@tiergraph/runtime';

const MERCHANT_AND_PLATFORM = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Merchant { id name } ... on Platform { id } } }`;

/** Billing's calls to tenancy, the source of truth for merchants and platforms (an internal call, service token). */
export class TenancyClient {
  constructor(
    private readonly tenancyUrl: string,
    private readonly serviceToken: () => Promise<string>,
  ) {}

  /**
   * Asks tenancy that both exist; the merchant's name is kept for the admin search. Returns the ids in lower case,
   * as every row, cache key and notification has them.
   */
  async merchantAndPlatform(rawMerchantId: string, rawPlatformId: string): Promise<MerchantPlatform & { name: string }> {
    if (!isUuid(rawMerchantId)) throw new NotFoundError('Merchant', rawMerchantId);
    if (!isUuid(rawPlatformId)) throw new NotFoundError('Platform', rawPlatformId);
    const merchantId = rawMerchantId.toLowerCase();
    const platformId = rawPlatformId.toLowerCase();
    const data = await callSubgraph<{ _entities: Array<{ id: string; name?: string } | null> }>(
      this.tenancyUrl,
      MERCHANT_AND_PLATFORM,
      { r: [{ __typename: 'Merchant', id: merchantId }, { __typename: 'Platform', id: platformId }] },
      this.serviceToken,
    );
    const [merchant, platform] = data._entities;
    if (!merchant) throw new NotFoundError('Merchant', merchantId);
    if (!platform) throw new NotFoundError('Platform', platformId);
    return { name: merchant.name ?? '', merchantId, platformId };
  }
}
