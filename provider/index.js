// The provider's entry point (package.json's main): the engine runs this folder (PulumiPlugin.yaml)
// through Pulumi's plugin runner, which calls the function exported here.
//
// The runner loads TypeScript through ts-node with type checking on, which takes 2 to 3 s of every
// start, and the provider starts twice in each run of a YAML program (once for its schema, once for
// the engine). The package is type-checked once, by `npm run lint`; here each file is only
// transpiled, with TypeScript's own transpileModule and this folder's compiler options, as a
// TypeScript program's `pulumi up` does with PULUMI_NODEJS_TRANSPILE_ONLY (BENCHMARKS.md).
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

const config = ts.getParsedCommandLineOfConfigFile(
    path.join(__dirname, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
);
const compilerOptions = { ...config.options, module: ts.ModuleKind.CommonJS, sourceMap: false, declaration: false };

require.extensions[".ts"] = (module, fileName) => {
    const { outputText } = ts.transpileModule(fs.readFileSync(fileName, "utf8"), { fileName, compilerOptions });
    module._compile(outputText, fileName);
};

module.exports = require("./serve.ts");
