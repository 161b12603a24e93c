package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"authreg.local/toolchain/pulumi-resource-docker/provider"
)

var Version = "0.0.0-dev"

//go:embed schema-embed.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() { tfbridge.Main("docker", Version, provider.Info(Version, metadata), schema) }
