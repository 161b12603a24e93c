/**
 * The token service's program is uploaded into the guard's and the token service's containers,
 * so any byte of difference in its bundle replaces both containers on `pulumi up`, and an
 * upgrade of the package would replace them in every stack (the upgrade suite forbids it).
 * The bundle is written deterministically (scripts/bundle-token-service.js), so its digest is
 * pinned here: a change to anything it includes (the token service, and what it imports, such as
 * the `defaults` object) fails this test before it reaches a stack.
 */
import * as crypto from "crypto";
import { tokenServiceProgram } from "../components/plan/tokenIssuer";

/** The bundle of releases 0.3.0 and 0.4.0. Change it only with a release whose notes say the guard and token containers are replaced. */
const releasedBundleDigest = "1afec852ed9f369d2687fb2a1e8b0b98f386f5c96eb30b8aa57969d10877eac4";

test("the token service's bundle is the released one, byte for byte", () => {
    expect(crypto.createHash("sha256").update(tokenServiceProgram()).digest("hex")).toBe(releasedBundleDigest);
});
