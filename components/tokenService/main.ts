/**
 * The token service's process: reads its settings and signing material from the files the
 * component uploads, and serves until Docker stops it. Bundled with its libraries into one file
 * (`npm run build:token-service`), which runs on a plain Node.js image.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { createGuardHandler, createTokenHandler, TokenServiceSettings } from "./handler";
import { GuardSettings } from "./guard";
import { tokenServiceFiles, tokenServicePort } from "./files";

async function main(): Promise<void> {
    const directory = process.env.TOKEN_SERVICE_CONFIG_DIR ?? tokenServiceFiles.directory;
    const read = (file: string) => fs.readFileSync(path.join(directory, path.basename(file)), "utf8");
    const settings = JSON.parse(read(tokenServiceFiles.settings)) as TokenServiceSettings | GuardSettings;
    const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
    // Token mode's settings name an issuer; basic mode's guard has neither users nor a key.
    const handler =
        "issuer" in settings
            ? await createTokenHandler(
                  settings,
                  { privateKeyPem: read(tokenServiceFiles.privateKey), certificatePem: read(tokenServiceFiles.certificate) },
                  log,
              )
            : createGuardHandler(settings, log);
    const port = Number(process.env.TOKEN_SERVICE_PORT ?? tokenServicePort);
    const server = http.createServer(handler);
    server.keepAliveTimeout = 65_000;
    server.listen(port, "0.0.0.0", () =>
        console.log(
            "issuer" in settings
                ? `token service for ${settings.service} on :${port}, ${settings.users.length} users`
                : `guard on :${port}${settings.loginThrottle === undefined ? ", login throttle off" : ""}`,
        ),
    );
    // Docker stops the container with SIGTERM: finish the requests in flight, then exit.
    process.on("SIGTERM", () => server.close(() => process.exit(0)));
}

main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
});
