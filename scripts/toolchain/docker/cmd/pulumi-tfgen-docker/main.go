package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"authreg.local/toolchain/pulumi-resource-docker/provider"
)

var Version = "0.0.0-dev"

func main() { tfgen.Main("docker", Version, provider.Info(Version, nil)) }
