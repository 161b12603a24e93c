package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"authreg.local/toolchain/pulumi-resource-tls/provider"
)

var Version = "0.0.0-dev"

func main() { pftfgen.Main("tls", provider.Info(Version, nil)) }
