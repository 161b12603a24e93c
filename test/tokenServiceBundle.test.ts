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

/**
 * The bundle of release 0.4.0, whose notes say that it replaces the guard and token containers of
 * 0.3.0 (1afec852..., the bundle of 0.1.0 to 0.3.0): the token service gained the identity route
 * of the audit trail. Change it only with a release whose notes say so again.
 */
const releasedBundleDigest = "50f1431463edfffba009e0ea63ac1c7f13d1b34ebededf1b8e4ca801c5fe078c";

test("the token service's bundle is the released one, byte for byte", () => {
    expect(crypto.createHash("sha256").update(tokenServiceProgram()).digest("hex")).toBe(releasedBundleDigest);
});
