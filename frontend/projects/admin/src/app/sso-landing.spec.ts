import { SsoLanding, readLanding, signInAddress } from './sso-landing';

describe('the provider’s landing', () => {
  it('reads a second step or a link to confirm from the fragment, and nothing else', () => {
    expect(readLanding('#mfa_challenge=c-123')).toEqual({ kind: 'mfa', challenge: 'c-123' });
    expect(readLanding('#oidc_link=t%2B1')).toEqual({ kind: 'link', token: 't+1' });
    expect(readLanding('')).toBeNull();
    expect(readLanding('#main')).toBeNull();
    expect(readLanding('#mfa_challenge=')).toBeNull();
  });

  it('sends the member to sign in, and back to the page the provider returned them to', () => {
    expect(signInAddress('/admin/', '')).toBe('/admin/sign-in');
    expect(signInAddress('/admin', '')).toBe('/admin/sign-in');
    expect(signInAddress('/admin/sign-in', '?next=%2Fstaff')).toBe('/admin/sign-in');
    expect(signInAddress('/admin/products', '?status=draft')).toBe('/admin/sign-in?next=%2Fproducts%3Fstatus%3Ddraft');
  });

  it('takes the fragment out of the address once read, and hands the landing out once', () => {
    const replaced: string[] = [];
    const history = {
      state: null,
      replaceState: (_: unknown, __: string, url?: string | URL | null) => void replaced.push(String(url)),
    };
    const landing = new SsoLanding();
    landing.capture({ hash: '#oidc_link=tok', pathname: '/admin/account', search: '' }, history);
    expect(replaced).toEqual(['/admin/sign-in?next=%2Faccount']);
    expect(landing.take()).toEqual({ kind: 'link', token: 'tok' });
    expect(landing.take()).toBeNull();
  });

  it('leaves an ordinary address alone', () => {
    const replaced: string[] = [];
    const history = { state: null, replaceState: () => void replaced.push('?') };
    const landing = new SsoLanding();
    landing.capture({ hash: '#main', pathname: '/admin/staff', search: '' }, history);
    expect(replaced).toEqual([]);
    expect(landing.take()).toBeNull();
  });
});
