import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as bcrypt from "bcryptjs";
import { defaults } from "./defaults";
import { checkNow, isPending, typeToken } from "./inputs";
import { validateBcryptCost, validatePassword, validateUsernames } from "./validation";

/** One basic-auth user of the registry. */
export interface HtpasswdUser {
    /** The login name: non-empty, no `:`, whitespace or control characters. */
    readonly username: string;
    /**
     * The password, 1 to 72 bytes; pass it as a secret.
     * @default a 32-character random password generated with `@pulumi/random` and kept in state
     */
    readonly password?: pulumi.Input<string>;
}

/** Arguments of {@link HtpasswdCredentials}. */
export interface HtpasswdCredentialsArgs {
    /** The users who may log in; at least one, names unique. */
    readonly users: HtpasswdUser[];
    /**
     * The bcrypt cost factor (2^cost rounds). nginx pays it again on every request.
     * @default 8
     */
    readonly bcryptCost?: number;
}

/** The bcrypt cost used when none is given; see the README for the measurements behind it. */
export const defaultBcryptCost: number = defaults.bcryptCost;

/** Length of generated passwords: 32 letters and digits, about 190 bits. */
const generatedPasswordLength = 32;

/**
 * Hashes one htpasswd line. The salt is supplied, not drawn, so the same password and salt
 * give the same line on every run. `$2y$` is the prefix Apache's `htpasswd -B` writes; for
 * the 72-byte passwords allowed here it hashes exactly as `$2a$` and `$2b$` do.
 */
export function htpasswdLine(username: string, password: string, salt: Buffer, cost: number): string {
    return `${username}:${passwordHash(password, salt, cost)}`;
}

/** The bcrypt hash of an htpasswd line: `$2y$COST$...`, the same for the same password and salt. */
export function passwordHash(password: string, salt: Buffer, cost: number): string {
    const bcryptSalt = `$2y$${String(cost).padStart(2, "0")}$${bcrypt.encodeBase64(salt, 16)}`;
    return bcrypt.hashSync(password, bcryptSalt);
}

/**
 * Checks {@link HtpasswdCredentialsArgs} without creating anything: names, cost, and every
 * password given as plain text. Passwords that are still Outputs are checked as they resolve,
 * by {@link checkedPassword}.
 */
export function checkHtpasswdArgs(args: HtpasswdCredentialsArgs): { usernames: string[]; cost: number } {
    const users = args.users ?? [];
    const usernames = validateUsernames(
        "users",
        users.map((u) => u.username),
    );
    users.forEach(({ password }, i) => {
        if (password !== undefined && !isPending(password)) {
            validatePassword(passwordField(i), password);
        }
    });
    return { usernames, cost: validateBcryptCost("bcryptCost", args.bcryptCost ?? defaultBcryptCost) };
}

function passwordField(index: number): string {
    return `users[${index}].password`;
}

/** A supplied password as an Output: plain text was checked by `checkHtpasswdArgs`, the rest is checked here. */
function checkedPassword(password: pulumi.Input<string>, index: number): pulumi.Output<string> {
    return isPending(password) ? pulumi.output(password).apply((p) => validatePassword(passwordField(index), p)) : pulumi.output(password);
}

/**
 * A bcrypt htpasswd file for nginx's `auth_basic_user_file`, and the users' passwords.
 *
 * bcrypt draws a random salt on every call, which would rewrite the file (and replace the
 * proxy) on every `pulumi up`. Each user's salt is therefore a `random.RandomBytes` kept in
 * state: a re-run gives byte-identical content, and a password change rewrites only that line.
 */
export class HtpasswdCredentials extends pulumi.ComponentResource {
    /** The htpasswd file content, one `user:$2y$...` line per user (secret). */
    public readonly htpasswd: pulumi.Output<string>;
    /** Each user's password by user name, supplied or generated (secret). */
    public readonly passwords: pulumi.Output<Record<string, string>>;
    /** Each user's bcrypt hash by user name, as in the htpasswd file (secret). */
    public readonly passwordHashes: pulumi.Output<Record<string, string>>;
    /** The user names, in the order given. */
    public readonly usernames: string[];

    constructor(name: string, args: HtpasswdCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("HtpasswdCredentials"), name, {}, opts);
        const { usernames, cost } = checkNow(this, () => checkHtpasswdArgs(args));

        const entries = usernames.map((username, i) => {
            const supplied = args.users[i].password;
            const password =
                supplied !== undefined
                    ? checkedPassword(supplied, i)
                    : new random.RandomPassword(
                          `${name}-${username}-password`,
                          { length: generatedPasswordLength, special: false },
                          { parent: this },
                      ).result;
            const salt = new random.RandomBytes(`${name}-${username}-salt`, { length: 16 }, { parent: this });
            const hash = pulumi.all([password, salt.base64]).apply(([pw, s]) => passwordHash(pw, Buffer.from(s, "base64"), cost));
            return { username, password, hash };
        });

        this.usernames = usernames;
        this.passwordHashes = pulumi.secret(
            pulumi.all(entries.map((e) => e.hash)).apply((hashes) => Object.fromEntries(usernames.map((u, i) => [u, hashes[i]]))),
        );
        this.htpasswd = pulumi.secret(
            pulumi.all(entries.map((e) => e.hash)).apply((hashes) => hashes.map((h, i) => `${usernames[i]}:${h}\n`).join("")),
        );
        this.passwords = pulumi.secret(
            pulumi.all(entries.map((e) => e.password)).apply((pws) => Object.fromEntries(usernames.map((u, i) => [u, pws[i]]))),
        );
        this.registerOutputs({
            htpasswd: this.htpasswd,
            passwords: this.passwords,
            passwordHashes: this.passwordHashes,
            usernames: this.usernames,
        });
    }
}
