import { userInfo } from 'node:os';
import { bearerAuthChallengeResponse, OAuthError } from '@modelcontextprotocol/server';
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { ApiKeys } from '../app/repos/api-keys.ts';
import type { Config, Role } from '../config/config.ts';
import { RoleSchema } from '../config/config.ts';
import type { Identity } from '../domain/identity.ts';

export type AuthOutcome = { identity: Identity } | { response: Response };

/**
 * Authenticates one HTTP request: an API key (`Authorization: Bearer cmk_…` or `X-Api-Key`) or
 * an OAuth 2.1 bearer JWT verified against the issuer's JWKS with the audience pinned to this
 * resource. Scopes (and optionally a roles/groups claim) map to roles; a token that maps to no
 * role is refused with 403 insufficient_scope.
 */
export class Authenticator {
  private readonly config: Config;
  private readonly apiKeys: ApiKeys;
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;
  private readonly resourceMetadataUrl?: string;
  private readonly localIdentity: Identity;

  constructor(config: Config, apiKeys: ApiKeys, resourceMetadataUrl?: string) {
    this.config = config;
    this.apiKeys = apiKeys;
    if (config.oauth) {
      this.jwks = createRemoteJWKSet(new URL(config.oauth.jwksUrl), {
        timeoutDuration: 5000,
        cooldownDuration: 30_000,
      });
    }
    if (resourceMetadataUrl) this.resourceMetadataUrl = resourceMetadataUrl;
    let user = 'local';
    try {
      user = userInfo().username || 'local';
    } catch {
      // No passwd entry (some containers): keep the default name.
    }
    this.localIdentity = { subject: 'local', name: user, roles: ['admin'], method: 'local' };
  }

  async authenticate(req: Request): Promise<AuthOutcome> {
    if (!this.config.authRequired) return { identity: this.localIdentity };
    const header = req.headers.get('authorization');
    const apiKeyHeader = req.headers.get('x-api-key');
    const bearer = header && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : undefined;
    const token = bearer || apiKeyHeader?.trim();
    if (!token) return { response: this.challenge() };

    if (ApiKeys.looksLikeKey(token)) {
      const key = await this.apiKeys.verify(token);
      if (!key) return { response: this.reject('invalid_token', 'The API key is unknown or revoked.') };
      return { identity: { subject: `apikey:${key.id}`, name: key.name, roles: [key.role], method: 'apiKey' } };
    }
    if (!this.jwks || !this.config.oauth) {
      return { response: this.reject('invalid_token', 'This server accepts API keys only (cmk_…).') };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.config.oauth.issuer,
        audience: this.config.oauth.audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: 30,
      }));
    } catch (err) {
      return { response: this.reject('invalid_token', describeJwtError(err)) };
    }
    const roles = this.rolesOf(payload);
    if (roles.length === 0) {
      return {
        response: this.reject(
          'insufficient_scope',
          `The token grants none of the scopes this server maps to a role (${Object.keys(this.config.oauth.scopeRoles).join(', ')}).`,
        ),
      };
    }
    const name = [payload.name, payload.email, payload.preferred_username, payload.sub].find(
      (v): v is string => typeof v === 'string' && v.length > 0,
    );
    const clientId = [payload.client_id, payload.azp].find((v): v is string => typeof v === 'string');
    return {
      identity: {
        subject: payload.sub as string,
        name: name ?? 'unknown',
        roles,
        method: 'oauth',
        ...(clientId ? { clientId } : {}),
      },
    };
  }

  /**
   * Roles from the token: scopes (`scope`, `scp`) count only through OAUTH_SCOPE_ROLES; values of
   * OAUTH_ROLES_CLAIM count through that map or as role names themselves. A scope is never a role
   * name by itself, since a client may be able to ask for any scope string.
   */
  private rolesOf(payload: JWTPayload): Role[] {
    const map = new Map(Object.entries(this.config.oauth?.scopeRoles ?? {}));
    const roles = new Set<Role>();
    const scopes: string[] = [];
    if (typeof payload.scope === 'string') scopes.push(...payload.scope.split(' '));
    if (Array.isArray(payload.scp)) for (const s of payload.scp) if (typeof s === 'string') scopes.push(s);
    for (const s of scopes) {
      const mapped = map.get(s);
      if (mapped) roles.add(mapped);
    }
    const claim = this.config.oauth?.rolesClaim;
    const claimed = claim ? payload[claim] : undefined;
    const values = Array.isArray(claimed) ? claimed : typeof claimed === 'string' ? [claimed] : [];
    for (const v of values) {
      if (typeof v !== 'string') continue;
      const mapped = map.get(v);
      if (mapped) roles.add(mapped);
      else if (RoleSchema.safeParse(v).success) roles.add(v as Role);
    }
    return [...roles];
  }

  /** 401 for a request without credentials: tells the client where to find the authorization server. */
  private challenge(): Response {
    const params = this.resourceMetadataUrl
      ? `resource_metadata="${this.resourceMetadataUrl}"`
      : 'realm="cloudops-mcp"';
    return new Response(
      JSON.stringify({ error: 'unauthorized', error_description: 'Authentication required: send a bearer token.' }),
      { status: 401, headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer ${params}` } },
    );
  }

  private reject(code: 'invalid_token' | 'insufficient_scope', description: string): Response {
    const scopes = Object.keys(this.config.oauth?.scopeRoles ?? {});
    return bearerAuthChallengeResponse(new OAuthError(code, description), {
      ...(this.resourceMetadataUrl ? { resourceMetadataUrl: this.resourceMetadataUrl } : {}),
      ...(code === 'insufficient_scope' && scopes.length ? { requiredScopes: scopes } : {}),
    });
  }
}

function describeJwtError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'The token has expired.';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'The token was issued for another resource (audience mismatch).';
    if (err.claim === 'iss') return 'The token comes from an issuer this server does not trust.';
    return `The token's "${err.claim}" claim is invalid.`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is invalid.';
  if (err instanceof joseErrors.JWKSNoMatchingKey)
    return 'The token was signed with a key the issuer does not publish.';
  if (err instanceof joseErrors.JOSEError) return 'The token could not be verified.';
  return 'The token could not be verified.';
}
