/** Real certificates for tests, made with the openssl command line as a user would. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run } from "./tools";

export interface TestCertificate {
    readonly certificatePem: string;
    readonly privateKeyPem: string;
}

function openssl(args: string[], input?: string): string {
    const result = run("openssl", args, input);
    if (result.status !== 0) {
        throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
    }
    return result.stdout;
}

/**
 * A self-signed EC certificate for `names` (DNS names or IP addresses, the first also the CN).
 * `expired` dates it to January 2020, through `openssl ca`, which alone sets arbitrary dates.
 */
export function selfSigned(names: string[], options: { expired?: boolean } = {}): TestCertificate {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cert-"));
    const at = (file: string) => path.join(dir, file);
    const san = names.map((n) => (/^[0-9.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", at("key.pem")]);
    openssl(["req", "-new", "-key", at("key.pem"), "-subj", `/CN=${names[0]}`, "-addext", `subjectAltName=${san}`, "-out", at("req.csr")]);
    fs.writeFileSync(at("index.txt"), "");
    fs.writeFileSync(at("serial"), "01\n");
    fs.writeFileSync(
        at("ca.cnf"),
        [
            "[ca]",
            "default_ca = test_ca",
            "[test_ca]",
            `database = ${at("index.txt")}`,
            `new_certs_dir = ${dir}`,
            `serial = ${at("serial")}`,
            "default_md = sha256",
            "policy = any",
            "copy_extensions = copy",
            "unique_subject = no",
            "[any]",
            "commonName = supplied",
            "",
        ].join("\n"),
    );
    const dates = options.expired ? ["-startdate", "20200101000000Z", "-enddate", "20200201000000Z"] : ["-days", "30"];
    openssl([
        "ca",
        "-batch",
        "-config",
        at("ca.cnf"),
        "-selfsign",
        "-keyfile",
        at("key.pem"),
        "-in",
        at("req.csr"),
        "-out",
        at("cert.pem"),
        "-notext",
        ...dates,
    ]);
    const result = { certificatePem: fs.readFileSync(at("cert.pem"), "utf8"), privateKeyPem: fs.readFileSync(at("key.pem"), "utf8") };
    fs.rmSync(dir, { recursive: true });
    return result;
}
