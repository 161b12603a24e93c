/** The user name and password of a `Basic` Authorization header, or undefined when there is none. */
export function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
    const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header?.trim() ?? "");
    if (!match) return undefined;
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
