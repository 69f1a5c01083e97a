import sharp from 'sharp';
import type { GraphQLCall } from './seed-demo';

/** GraphQL over HTTP with one token; an answer with errors throws with the first error's code and message. */
export function graphqlCaller(url: string, token: string): GraphQLCall {
  return async (query, variables = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json().catch(() => null)) as { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> } | null;
    if (!body) throw new Error(`${url} answered HTTP ${response.status} without a GraphQL body`);
    if (body.errors?.length) {
      const [first] = body.errors;
      throw new Error(`${first.extensions?.code ?? 'ERROR'}: ${first.message}`);
    }
    return body.data;
  };
}

/** POST /media/upload (multipart) as the media subgraph takes it. */
export function mediaUploader(url: string, token: string): (storeId: string, filename: string, image: Buffer) => Promise<void> {
  return async (storeId, filename, image) => {
    const form = new FormData();
    form.append('storeId', storeId);
    form.append('file', new Blob([image], { type: 'image/png' }), filename);
    const response = await fetch(url, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
    if (response.status !== 201) throw new Error(`upload of ${filename} answered HTTP ${response.status}: ${await response.text()}`);
  };
}

/** A 1200 × 900 gradient PNG whose colours follow the seed: big enough that the variants are real resizes. */
export async function renderDemoImage(seed: number): Promise<Buffer> {
  const hue = (seed * 47) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="900">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="hsl(${hue},70%,55%)"/><stop offset="1" stop-color="hsl(${(hue + 60) % 360},70%,35%)"/>
    </linearGradient></defs>
    <rect width="1200" height="900" fill="url(#g)"/><circle cx="600" cy="450" r="${180 + (seed % 5) * 30}" fill="rgba(255,255,255,0.35)"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
