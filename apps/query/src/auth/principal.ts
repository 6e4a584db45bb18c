// Who is calling: the tenant and role of the API key. The tenant always comes from here, never from the request.
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ApiKeyRole } from '@fleet/db';

export interface Principal {
  keyId: string;
  tenantId: string;
  role: ApiKeyRole;
}

const PRINCIPAL = Symbol('specfleet.principal');

export function setPrincipal(request: object, principal: Principal): void {
  (request as Record<symbol, Principal>)[PRINCIPAL] = principal;
}

export function principalOf(request: object): Principal | undefined {
  return (request as Record<symbol, Principal | undefined>)[PRINCIPAL];
}

/** The authenticated caller (the guard has run; routes without a key never use this). */
export const Caller = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = principalOf(ctx.switchToHttp().getRequest<object>());
  if (!principal) throw new Error('Caller used on a route without authentication');
  return principal;
});
