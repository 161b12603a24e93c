package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"authreg.local/toolchain/pulumi-resource-random/provider"
)

var Version = "0.0.0-dev"

func main() { pftfgen.Main("random", provider.Info(Version, nil)) }
