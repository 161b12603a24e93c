/**
 * Who a request's bearer token names, for the audit trail in token mode: nginx cannot read a
 * token, so it asks here (`auth_request`) for each request the trail records. The answer is
 * always 204, so that it never decides a request: the registry does, by the same signature. It
 * names the token's subject in {@link tokenIdentityHeader} only when jose verifies the token
 * against the service's own certificate, issuer and audience; a forged, expired or foreign token
 * names no one.
 */
import { X509Certificate } from "crypto";
import * as http from "http";
import { jwtVerify } from "jose";
import { tokenIdentityHeader } from "./files";

/** What a token must carry to name its user: the claims the registry checks. */
export interface IdentityClaims {
    /** The token's `iss`. */
    readonly issuer: string;
    /** The token's `aud`. */
    readonly audience: string;
}

/** The bearer token of an `Authorization` header; undefined for any other scheme or none. */
function bearerToken(req: http.IncomingMessage): string | undefined {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(req.headers.authorization ?? "");
    return match?.[1];
}

/** The route's handler: 204, with the user's name when the token verifies. */
export function createIdentityCheck(
    claims: IdentityClaims,
    certificatePem: string,
): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
    const key = new X509Certificate(certificatePem).publicKey;
    return async (req, res) => {
        const token = bearerToken(req);
        let user: string | undefined;
        if (token !== undefined) {
            try {
                const { payload } = await jwtVerify(token, key, { ...claims, algorithms: ["ES256"] });
                user = payload.sub;
            } catch {
                // Not a token this service signed, or no longer valid: the registry refuses it.
            }
        }
        // The name's UTF-8 bytes, which Node sends as they are when given as latin1 (it refuses a
        // header with characters past U+00FF): nginx logs them as basic mode logs a user's name.
        const header = user === undefined ? {} : { [tokenIdentityHeader]: Buffer.from(user, "utf8").toString("latin1") };
        res.writeHead(204, { "Cache-Control": "no-store", ...header });
        res.end();
    };
}
