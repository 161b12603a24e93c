package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"authreg.local/toolchain/pulumi-resource-tls/provider"
)

var Version = "0.0.0-dev"

//go:embed schema-embed.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pf.Main(context.Background(), "tls", provider.Info(Version, metadata), pf.ProviderMetadata{PackageSchema: schema})
}
