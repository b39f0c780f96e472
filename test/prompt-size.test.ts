import { measurePromptTokens } from '../bench/prompt-size';

describe('prompt size', () => {
  it('stays within 1.5 times its round-2 size by round 6, counted in real tokens', async () => {
    const rows = await measurePromptTokens(6);

    expect(rows[5].vendorTokens / rows[1].vendorTokens).toBeLessThanOrEqual(1.5);
    expect(rows[5].clientTokens / rows[1].clientTokens).toBeLessThanOrEqual(1.5);
  });
});
